/*
 * Unit tests for backend/lean.c: which mappings may be dropped (pure), and
 * a real drop in this process: RSS goes down, and the code and data that
 * were let go of work afterwards (faulted back in from the file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "lean.h"

static void test_droppable(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        long anon, pdirty, sdirty;
        int want;
    } cases[] = {
        {"00400000-00600000 r-xp 00000000 08:01 1234 /usr/bin/x", 0, 0, 0, 1},
        {"00600000-00700000 r--p 00200000 08:01 1234 /usr/bin/x", 0, 0, 0, 1},
        /* RELRO: read-only now, written by the loader */
        {"00700000-00701000 r--p 00300000 08:01 1234 /usr/bin/x", 4, 4, 0, 0},
        {"00701000-00702000 rw-p 00301000 08:01 1234 /usr/bin/x", 0, 0, 0, 0},
        {"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ", 0, 0, 0, 0},
        {"7ffd0000000-7ffd0021000 r-xp 00000000 00:00 0 [vdso]", 0, 0, 0, 0},
        {"7f0000000000-7f0000100000 r--s 00000000 08:01 99 /dev/shm/x", 0, 0, 0, 0},
        {"7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /tmp/x (deleted)", 0, 0, 0, 0},
        {"7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /lib/libc.so.6", 0, 0, 8, 0},
        {"garbage", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (lean_droppable(cases[i].header, cases[i].anon, cases[i].pdirty, cases[i].sdirty) !=
            cases[i].want)
            fail_msg("case %zu (%s): expected %d", i, cases[i].header, cases[i].want);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static void test_drop(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"a\":[1,2,3]}", 0, NULL);
    char *before = json_dumps(j, JSON_COMPACT);
    long rss = rss_kb();
    long freed = lean_file_pages();
    long after = rss_kb();
    assert_true(freed > 0);
    assert_true(after < rss);
    /* the library's code and data come back from the file */
    char *again = json_dumps(j, JSON_COMPACT);
    assert_string_equal(before, again);
    free(before);
    free(again);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_droppable),
        cmocka_unit_test(test_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
