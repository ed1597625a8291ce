/*
 * libFuzzer target for backend/settings.c: the two ways settings come from
 * outside, a PUT /api/config body (settings_merge over the saved settings)
 * and the settings file read at start (settings_load; a corrupt file must be
 * an error, never a crash).
 *
 * Invariants: a merge either succeeds and its result survives a save and a
 * load unchanged in what the API shows, or fails with a code, a message and
 * valid UTF-8 text; every path frees what it took (leak checker).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "settings.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static char dir[64];

static void check_error(const struct err *e)
{
    /* a code the API can name (struct err's code was its name, a string,
     * before the error enum; E_NONE has none), an HTTP error status and a
     * message */
    check(ecode_name(e->code) != NULL && e->status >= 400 && e->status < 600 &&
          e->message[0] != '\0');
    json_t *m = json_string(e->message); /* must be UTF-8, or no answer is sent */
    check(m != NULL);
    json_decref(m);
    json_t *f = json_string(e->field);
    check(f != NULL);
    json_decref(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err e = {0};
    char path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz-settings-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/settings.json", dir);

    /* 1. the bytes as a PUT body */
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(body)) {
        struct settings cur, out;
        check(settings_init(&cur) == 0);
        if (settings_merge(&cur, body, &out, &e) == 0) {
            json_t *shown = settings_public_json(&out);
            check(shown != NULL);
            if (settings_save(path, &out, &e) == 0) {
                struct settings back;
                check(settings_init(&back) == 0);
                check(settings_load(path, &back, &e) == 0);
                json_t *again = settings_public_json(&back);
                check(again != NULL && json_equal(shown, again));
                json_decref(again);
                settings_free(&back);
            }
            json_decref(shown);
        } else {
            check_error(&e);
        }
        settings_free(&out);
        settings_free(&cur);
    }
    json_decref(body);

    /* 2. the bytes as the settings file */
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(data, 1, size, f);
        fclose(f);
        struct settings s;
        check(settings_init(&s) == 0);
        if (settings_load(path, &s, &e) == 0) {
            json_t *shown = settings_public_json(&s);
            check(shown != NULL);
            json_decref(shown);
        } else {
            check_error(&e);
        }
        settings_free(&s);
    }
    unlink(path);
    return 0;
}
