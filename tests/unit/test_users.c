/*
 * Unit tests for backend/users.c: name and password rules as tables, bcrypt
 * hashes made by libxcrypt and checked with crypt_r itself, every change
 * refused on bad input leaving the users as they were, the htpasswd text,
 * and the two 0600 files in a round trip (with the internal credential
 * made again when its file is lost).
 */
#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api.h"
#include "regconfig.h"
#include "settings.h"
#include "spec.h"
#include "testutil.h"
#include "tlscert.h"
#include "users.h"

/* the lowest bcrypt cost: the tests check hashes, not their price */
#define COST 4
#define PW "correct horse battery"
#define PW2 "another-password-42"

/* crypt_r, straight from libxcrypt: what the registry's bcrypt compare does */
static int crypt_matches(const char *pw, const char *hash)
{
    struct crypt_data *cd = calloc(1, sizeof *cd);
    assert_non_null(cd);
    const char *h = crypt_r(pw, hash, cd);
    int ok = h && strcmp(h, hash) == 0;
    free(cd);
    return ok;
}

static void test_names(void **state)
{
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        {"alice", 1},
        {"Bob.Smith_2-ci", 1},
        {"0ci", 1},
        {"a", 1},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},  /* 64 */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0}, /* 65 */
        {"", 0},
        {"_storj-registryd", 0}, /* the internal user's name is no user name */
        {".hidden", 0},
        {"-x", 0},
        {"a:b", 0}, /* htpasswd's separator */
        {"a b", 0},
        {"a/b", 0},
        {"a\nb", 0},
        {"j\xc3\xa9r\xc3\xb4me", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *why = "unset";
        int ok = users_name_valid(cases[i].name, &why);
        CHECK(ok == cases[i].ok, "name %s: got %d", cases[i].name, ok);
        CHECK(ok ? why == NULL : why != NULL && *why, "name %s: reason", cases[i].name);
    }
}

static void test_passwords(void **state)
{
    static const struct {
        const char *pw;
        int ok;
    } cases[] = {
        {"123456789012", 1},
        {"12345678901", 0},
        {"", 0},
        {"with spaces is fine", 1},
        {"unicode p\xc3\xa4ssw\xc3\xb6rd ok", 1},
        {"tab\there-12345", 0},
        {"newline\n123456", 0},
        {"del\x7f"
         "123456789",
         0},
        {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1},  /* 72 */
        {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0}, /* 73 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *why = NULL;
        int ok = users_password_valid(cases[i].pw, &why);
        CHECK(ok == cases[i].ok, "password case %zu: got %d", i, ok);
        CHECK(ok || (why && *why), "password case %zu: reason", i);
    }
}

static void test_hash_is_bcrypt(void **state)
{
    char h1[USERS_HASH_MAX], h2[USERS_HASH_MAX];
    struct err e = {0};
    /* the real cost once, as the product uses it */
    assert_int_equal(users_hash(PW, USERS_BCRYPT_COST, h1, sizeof h1, &e), 0);
    assert_int_equal(strlen(h1), 60);
    assert_memory_equal(h1, "$2b$10$", 7);
    assert_true(crypt_matches(PW, h1));
    assert_false(crypt_matches(PW2, h1));
    assert_true(users_verify(PW, h1));
    assert_false(users_verify(PW2, h1));
    assert_false(users_verify("", h1));
    /* a fresh salt each time */
    assert_int_equal(users_hash(PW, COST, h2, sizeof h2, &e), 0);
    assert_memory_equal(h2, "$2b$04$", 7);
    assert_string_not_equal(h1, h2);
    assert_true(crypt_matches(PW, h2));
    /* no hash at all is no match (never a crypt of garbage) */
    assert_false(users_verify(PW, "plain"));
    assert_false(users_verify(PW, ""));
    /* a buffer too small is an error, not a cut hash */
    char tiny[20];
    assert_int_equal(users_hash(PW, COST, tiny, sizeof tiny, &e), -1);
}

static void test_generated(void **state)
{
    char a[USERS_GENERATED_LEN + 1], b[USERS_GENERATED_LEN + 1];
    assert_int_equal(users_generate_password(a, sizeof a), 0);
    assert_int_equal(users_generate_password(b, sizeof b), 0);
    assert_int_equal(strlen(a), USERS_GENERATED_LEN);
    assert_string_not_equal(a, b);
    assert_true(users_password_valid(a, NULL));
    for (const char *p = a; *p; p++)
        CHECK(strchr("0O1lI", *p) == NULL, "look-alike %c in %s", *p, a);
    char small[USERS_GENERATED_LEN];
    assert_int_equal(users_generate_password(small, sizeof small), -1);
}

/* Every failed change leaves the users byte for byte as they were. */
static void test_bad_input_changes_nothing(void **state)
{
    struct users *u = calloc(1, sizeof *u), *before = calloc(1, sizeof *before);
    struct err e = {0};
    assert_int_equal(users_init(u, &e), 0);
    assert_int_equal(users_add(u, "alice", PW, COST, &e), 0);
    memcpy(before, u, sizeof *u);

    static const struct {
        const char *name, *pw;
        int status;
        const char *field;
    } adds[] = {
        {"", PW, 400, "name"},
        {"_storj-registryd", PW, 400, "name"},
        {"bad name", PW, 400, "name"},
        {"bob", "short", 400, "password"},
        {"bob",
         "ctl\x01"
         "456789012",
         400, "password"},
        {"alice", PW2, 409, "name"},
    };
    for (size_t i = 0; i < sizeof adds / sizeof *adds; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(users_add(u, adds[i].name, adds[i].pw, COST, &e), -1);
        CHECK(e.status == adds[i].status, "add %zu: status %d", i, e.status);
        CHECK(strcmp(e.field, adds[i].field) == 0, "add %zu: field %s", i, e.field);
        CHECK(memcmp(u, before, sizeof *u) == 0, "add %zu changed the users", i);
    }
    memset(&e, 0, sizeof e);
    assert_int_equal(users_set_password(u, "alice", "short", COST, &e), -1);
    assert_string_equal(e.field, "password");
    assert_int_equal(users_set_password(u, "nobody", PW2, COST, &e), -1);
    assert_int_equal(e.status, 404);
    assert_int_equal(users_remove(u, "nobody", &e), -1);
    assert_int_equal(e.status, 404);
    /* the internal user is nobody's to remove or reset */
    assert_int_equal(users_remove(u, USERS_INTERNAL_NAME, &e), -1);
    assert_int_equal(e.status, 404);
    assert_int_equal(users_set_password(u, USERS_INTERNAL_NAME, PW2, COST, &e), -1);
    assert_memory_equal(u, before, sizeof *u);

    /* at most USERS_MAX */
    char name[16];
    for (int i = u->count; i < USERS_MAX; i++) {
        snprintf(name, sizeof name, "u%d", i);
        assert_int_equal(users_add(u, name, PW, COST, &e), 0);
    }
    memcpy(before, u, sizeof *u);
    assert_int_equal(users_add(u, "onemore", PW, COST, &e), -1);
    assert_int_equal(e.status, 409);
    assert_memory_equal(u, before, sizeof *u);
    users_clear(u);
    free(u);
    free(before);
}

static void test_changes(void **state)
{
    struct users *u = calloc(1, sizeof *u);
    struct err e = {0};
    assert_int_equal(users_init(u, &e), 0);
    assert_int_equal(u->count, 0);
    assert_true(users_verify(u->internal_password, u->internal_hash));
    assert_int_equal(users_add(u, "alice", PW, COST, &e), 0);
    assert_int_equal(users_add(u, "bob", PW2, COST, &e), 0);
    assert_int_equal(users_find(u, "bob"), 1);
    assert_true(crypt_matches(PW2, u->u[1].hash));
    assert_int_equal(users_set_password(u, "alice", PW2, COST, &e), 0);
    assert_true(crypt_matches(PW2, u->u[0].hash));
    assert_false(crypt_matches(PW, u->u[0].hash));
    assert_int_equal(users_remove(u, "alice", &e), 0);
    assert_int_equal(u->count, 1);
    assert_string_equal(u->u[0].name, "bob");
    assert_int_equal(users_find(u, "alice"), -1);

    /* the list shows names only; the internal user not at all */
    json_t *j = users_public_json(u);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"count\":1,\"users\":[{\"name\":\"bob\"}]}");
    free(text);
    json_decref(j);

    users_clear(u);
    free(u);
}

static void test_htpasswd_text(void **state)
{
    struct users *u = calloc(1, sizeof *u), *back = calloc(1, sizeof *back);
    struct err e = {0};
    assert_int_equal(users_init(u, &e), 0);
    assert_int_equal(users_add(u, "alice", PW, COST, &e), 0);
    char *text = users_htpasswd(u);
    assert_non_null(text);
    /* one line per user and the internal one, never a password */
    char want[512];
    snprintf(want, sizeof want, "alice:%s\n%s:%s\n", u->u[0].hash, USERS_INTERNAL_NAME,
             u->internal_hash);
    assert_non_null(strstr(text, want));
    assert_null(strstr(text, PW));
    assert_null(strstr(text, u->internal_password));
    /* read back */
    assert_int_equal(users_parse(back, text, strlen(text), &e), 0);
    assert_int_equal(back->count, 1);
    assert_string_equal(back->u[0].hash, u->u[0].hash);
    assert_string_equal(back->internal_hash, u->internal_hash);
    free(text);

    static const char *const bad[] = {
        "alice\n",
        "alice:plain\n",
        ":$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n",
        "bad name:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n",
        "a:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n"
        "a:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n",
        "a:$1$md5$notbcrypt\n",
    };
    struct users keep;
    memcpy(&keep, back, sizeof keep);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(users_parse(back, bad[i], strlen(bad[i]), &e) == -1, "bad %zu parsed", i);
        CHECK(memcmp(back, &keep, sizeof keep) == 0, "bad %zu changed the users", i);
    }
    const char *ok =
        "# comment\n\n  \r\nb.c:$2y$05$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\r\n";
    assert_int_equal(users_parse(back, ok, strlen(ok), &e), 0);
    assert_int_equal(back->count, 1);
    assert_string_equal(back->u[0].name, "b.c");
    users_clear(u);
    users_clear(back);
    free(u);
    free(back);
}

static void file_mode_is(const char *dir, const char *name, int mode)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(stat(path, &st), 0);
    CHECK((st.st_mode & 0777) == (unsigned)mode, "%s mode %o", name, st.st_mode & 0777);
}

static void test_files(void **state)
{
    char dir[] = "/tmp/test_users.XXXXXX", path[512];
    assert_non_null(mkdtemp(dir));
    struct users *u = calloc(1, sizeof *u), *back = calloc(1, sizeof *back);
    struct err e = {0};

    /* nothing there: no users, a new credential that must be written */
    assert_int_equal(users_load(dir, back, &e), 1);
    assert_int_equal(back->count, 0);
    assert_true(users_verify(back->internal_password, back->internal_hash));
    users_clear(back);

    assert_int_equal(users_init(u, &e), 0);
    assert_int_equal(users_add(u, "alice", PW, COST, &e), 0);
    assert_int_equal(users_add(u, "bob", PW2, COST, &e), 0);
    assert_int_equal(users_save(dir, u, &e), 0);
    file_mode_is(dir, USERS_FILE, 0600);
    file_mode_is(dir, USERS_CREDENTIAL_FILE, 0600);
    assert_int_equal(users_load(dir, back, &e), 0);
    assert_int_equal(back->count, 2);
    assert_string_equal(back->u[1].name, "bob");
    assert_true(crypt_matches(PW2, back->u[1].hash));
    assert_string_equal(back->internal_password, u->internal_password);
    assert_string_equal(back->internal_hash, u->internal_hash);
    users_clear(back);

    /* no temporary file left */
    snprintf(path, sizeof path, "%s/%s.tmp.%d", dir, USERS_FILE, (int)getpid());
    assert_int_not_equal(access(path, F_OK), 0);

    /* the credential lost: a new one, the users kept */
    snprintf(path, sizeof path, "%s/%s", dir, USERS_CREDENTIAL_FILE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(users_load(dir, back, &e), 1);
    assert_int_equal(back->count, 2);
    assert_string_not_equal(back->internal_password, u->internal_password);
    assert_true(users_verify(back->internal_password, back->internal_hash));
    users_clear(back);

    /* a broken htpasswd is an error, not an empty list */
    snprintf(path, sizeof path, "%s/%s", dir, USERS_FILE);
    FILE *f = fopen(path, "w");
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(users_load(dir, back, &e), -1);
    assert_int_equal(e.code, E_STATE_CORRUPT);

    /* a folder that cannot be written: an error, the old files stay */
    assert_int_equal(users_save(dir, u, &e), 0);
    assert_int_equal(chmod(dir, 0500), 0);
    if (geteuid() != 0) { /* root writes anyway */
        assert_int_equal(users_remove(u, "bob", &e), 0);
        assert_int_equal(users_save(dir, u, &e), -1);
        assert_int_equal(e.code, E_STATE_UNWRITABLE);
        assert_int_equal(users_load(dir, back, &e), 0);
        assert_int_equal(back->count, 2);
        users_clear(back);
    }
    chmod(dir, 0700);

    snprintf(path, sizeof path, "%s/%s", dir, USERS_FILE);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", dir, USERS_CREDENTIAL_FILE);
    unlink(path);
    rmdir(dir);
    users_clear(u);
    free(u);
    free(back);
}

/* ---- the registry's side: regconfig and spec ------------------------- */

static void test_regconfig_auth(void **state)
{
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    json_t *c = regconfig_registry(&s, 0);
    assert_non_null(c);
    assert_null(json_object_get(c, "auth")); /* no users: no login */
    json_decref(c);
    s.users = 1;
    c = regconfig_registry(&s, 0);
    char *text = json_dumps(json_object_get(c, "auth"), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"htpasswd\":{\"path\":\"" REGCONFIG_HTPASSWD_PATH
                              "\",\"realm\":\"" REGCONFIG_REALM "\"}}");
    free(text);
    json_decref(c);
    settings_free(&s);
}

/* the names and contents of a tar archive, via tar(1) */
static void tar_list(const struct buf *b, char *out, size_t len, const char *extract)
{
    char file[] = "/tmp/test-users-tar-XXXXXX", cmd[256];
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->data, b->len), (ssize_t)b->len);
    close(fd);
    if (extract)
        snprintf(cmd, sizeof cmd, "tar -xOf %s %s 2>&1", file, extract);
    else
        snprintf(cmd, sizeof cmd, "tar -tf %s 2>&1", file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(file);
}

static void test_spec_htpasswd(void **state)
{
    static const struct spec_opts o = {
        .registry_image = "registry:3", .gateway_image = "gw", .native_image = "native"};
    struct settings s;
    struct spec_set a, b;
    struct err e = {0};
    char out[4096];
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(spec_build(&s, &o, &a, &e), 0);
    tar_list(&a.c[0].tar, out, sizeof out, NULL);
    assert_string_equal(out, "etc/storj-registry/config.yml\n");

    /* the users' file rides along in the same upload, outside the hash */
    s.htpasswd = strdup("alice:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n");
    assert_int_equal(spec_build(&s, &o, &b, &e), 0);
    tar_list(&b.c[0].tar, out, sizeof out, NULL);
    assert_string_equal(out, "etc/storj-registry/config.yml\netc/storj-registry/htpasswd\n");
    tar_list(&b.c[0].tar, out, sizeof out, "etc/storj-registry/htpasswd");
    assert_string_equal(out, s.htpasswd);
    assert_string_equal(a.hash, b.hash);
    spec_free(&b);

    /* users turn logins on: another configuration, another hash */
    s.users = 1;
    assert_int_equal(spec_build(&s, &o, &b, &e), 0);
    assert_string_not_equal(a.hash, b.hash);
    tar_list(&b.c[0].tar, out, sizeof out, "etc/storj-registry/config.yml");
    assert_non_null(strstr(out, REGCONFIG_HTPASSWD_PATH));
    spec_free(&b);
    spec_free(&a);

    /* off loopback only with users */
    s.users = 0;
    snprintf(s.bind, sizeof s.bind, "0.0.0.0");
    assert_int_equal(spec_build(&s, &o, &b, &e), -1);
    assert_string_equal(e.field, "bind");
    spec_free(&b);
    s.users = 1;
    assert_int_equal(spec_build(&s, &o, &b, &e), 0);
    spec_free(&b);
    settings_free(&s);

    /* the live copy: one file, later each time */
    struct buf t1 = {0}, t2 = {0};
    assert_int_equal(spec_tar_htpasswd(&t1, "x:y\n"), 0);
    assert_int_equal(spec_tar_htpasswd(&t2, "x:y\n"), 0);
    tar_list(&t1, out, sizeof out, NULL);
    assert_string_equal(out, "etc/storj-registry/htpasswd\n");
    /* ustar mtime: 12 octal bytes at 136 */
    long long m1 = strtoll(t1.data + 136, NULL, 8), m2 = strtoll(t2.data + 136, NULL, 8);
    assert_true(m2 > m1);
    buf_free(&t1);
    buf_free(&t2);
}

static void test_bind_loopback(void **state)
{
    static const struct {
        const char *bind;
        int loop;
    } cases[] = {
        {"127.0.0.1", 1}, {"127.8.9.10", 1}, {"::1", 1},        {"::ffff:127.0.0.1", 1},
        {"0.0.0.0", 0},   {"::", 0},         {"198.18.0.1", 0}, {"::ffff:198.18.0.1", 0},
        {"128.0.0.1", 0}, {"localhost", 0},  {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(settings_bind_loopback(cases[i].bind) == cases[i].loop, "%s", cases[i].bind);
}

/* ---- TLS: the registry's own certificate (tlscert.h, settings tls.*) ---- */

/* made with openssl req -x509 -newkey ec (P-256), CN registry.test, SANs
 * DNS:registry.test and IP:198.18.0.1, valid until 2036; KEY_B is another key */
#define CERT_A                                                                                     \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBpTCCAUugAwIBAgIUUuYxfEDlluLwFIUFsmHw93+NBbUwCgYIKoZIzj0EAwIw\n"                           \
    "GDEWMBQGA1UEAwwNcmVnaXN0cnkudGVzdDAeFw0yNjEyMDIwMjM0MTZaFw0zNjEx\n"                           \
    "MjkwMjM0MTZaMBgxFjAUBgNVBAMMDXJlZ2lzdHJ5LnRlc3QwWTATBgcqhkjOPQIB\n"                           \
    "BggqhkjOPQMBBwNCAASr35mb5jU9UlFoZaNKq43Dv7YxiMiqJXamgzXm4V6o+P6O\n"                           \
    "zqy2oZrs3WSC7tFpospkDXR5OWFrMtFVh8rhLbq9o3MwcTAdBgNVHQ4EFgQUiLjE\n"                           \
    "sE/e2FczZMTI+TWiXyGPQGcwHwYDVR0jBBgwFoAUiLjEsE/e2FczZMTI+TWiXyGP\n"                           \
    "QGcwDwYDVR0TAQH/BAUwAwEB/zAeBgNVHREEFzAVgg1yZWdpc3RyeS50ZXN0hwTG\n"                           \
    "EgABMAoGCCqGSM49BAMCA0gAMEUCIBuobVmEVBaUOxvYHBbT7WV7Sa6xXivDZAl6\n"                           \
    "+3GkL7I+AiEAqpGa4bHjQXqXPOCAFc+4QEcRPLC5O/z//P+ZJ4CZrSA=\n"                                   \
    "-----END CERTIFICATE-----\n"
#define KEY_A                                                                                      \
    "-----BEGIN PRIVATE KEY-----\n"                                                                \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwWFx+kGq/x51hb+x\n"                           \
    "TTgBI8XRXftuw9dhMF65Ih8qF2ahRANCAASr35mb5jU9UlFoZaNKq43Dv7YxiMiq\n"                           \
    "JXamgzXm4V6o+P6Ozqy2oZrs3WSC7tFpospkDXR5OWFrMtFVh8rhLbq9\n"                                   \
    "-----END PRIVATE KEY-----\n"
#define KEY_B                                                                                      \
    "-----BEGIN PRIVATE KEY-----\n"                                                                \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0ZFXxvQpWZ4jKDkE\n"                           \
    "NlwuCA3m2DaG1bCFJDd7aIltc3+hRANCAASueivMX3HzGsCbIqanpvDIjzIUZYdU\n"                           \
    "XLZmDz9v8oT7GKRaMNQ+kxtnvqaPtjZl0MD4eF+ipEqDqJ1QbTIm6cIJ\n"                                   \
    "-----END PRIVATE KEY-----\n"
/* openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256 | base64 */
#define PIN_A "sha256//JedBkyfIiyfKvBYxgi+13tSedldstQxdU03F8my7trU="

static void test_tlscert(void **state)
{
    struct err e = {0};
    assert_int_equal(tlscert_check(CERT_A, KEY_A, &e), 0);
    assert_int_equal(tlscert_check(CERT_A, KEY_B, &e), -1);
    assert_string_equal(e.field, "tls.key");
    assert_int_equal(tlscert_check("not a certificate", KEY_A, &e), -1);
    assert_string_equal(e.field, "tls.certificate");
    assert_int_equal(tlscert_check(KEY_A, KEY_A, &e), -1);
    assert_string_equal(e.field, "tls.certificate");
    assert_int_equal(tlscert_check(CERT_A, CERT_A, &e), -1);
    assert_string_equal(e.field, "tls.key");
    char pin[80];
    assert_int_equal(tlscert_pin(CERT_A, pin, sizeof pin), 0);
    assert_string_equal(pin, PIN_A);
    assert_int_equal(tlscert_pin("junk", pin, sizeof pin), -1);
    json_t *f = tlscert_facts(CERT_A);
    char *text = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"names\":[\"registry.test\",\"198.18.0.1\"],\"notAfter\":"
                              "\"2036-11-29T02:34:16Z\",\"subject\":\"registry.test\"}");
    free(text);
    json_decref(f);
}

/* A passphrase-protected key or certificate is refused with a message and
 * never reaches OpenSSL's default callback, which prompts on the terminal
 * and would hang PUT /api/config. Run in a child with no controlling
 * terminal, stdin at EOF and an alarm, so the test cannot hang either way. */
static int encrypted_pem_child(void)
{
    /* where the default callback would prompt when there is no terminal */
    char prompts[] = "/tmp/test_users_prompt_XXXXXX";
    int pfd = mkstemp(prompts);
    if (setsid() < 0 || !freopen("/dev/null", "r", stdin) || pfd < 0 || dup2(pfd, 2) < 0)
        return 2;
    unlink(prompts);
    alarm(10);
    BIO *in = BIO_new_mem_buf(KEY_A, -1), *kout = BIO_new(BIO_s_mem()),
        *cin = BIO_new_mem_buf(CERT_A, -1), *cout = BIO_new(BIO_s_mem());
    EVP_PKEY *k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    X509 *x = PEM_read_bio_X509(cin, NULL, NULL, NULL);
    unsigned char pass[] = "secret-pass";
    /* PKCS#8 (-----BEGIN ENCRYPTED PRIVATE KEY-----) and the traditional
     * Proc-Type: 4,ENCRYPTED form, and a certificate under the same header */
    if (!k || !x ||
        !PEM_write_bio_PrivateKey(kout, k, EVP_aes_256_cbc(), pass, (int)strlen((char *)pass), NULL,
                                  NULL) ||
        !PEM_write_bio_PrivateKey_traditional(kout, k, EVP_aes_128_cbc(), pass,
                                              (int)strlen((char *)pass), NULL, NULL) ||
        !PEM_ASN1_write_bio((i2d_of_void *)i2d_X509, PEM_STRING_X509, cout, x, EVP_aes_128_cbc(),
                            pass, (int)strlen((char *)pass), NULL, NULL))
        return 3;
    char *kpem, *cpem;
    long kn = BIO_get_mem_data(kout, &kpem), cn = BIO_get_mem_data(cout, &cpem);
    char *both = strndup(kpem, (size_t)kn), *cert = strndup(cpem, (size_t)cn);
    char *trad = strstr(both, "-----BEGIN EC PRIVATE KEY-----");
    if (!trad || !strstr(both, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
        !strstr(cert, "Proc-Type: 4,ENCRYPTED"))
        return 4;
    char *pkcs8 = strndup(both, (size_t)(trad - both));
    struct err e = {0};
    int bad = 0;
    const char *keys[] = {pkcs8, trad};
    for (int i = 0; i < 2; i++) {
        memset(&e, 0, sizeof e);
        if (tlscert_check(CERT_A, keys[i], &e) != -1 || e.status != 400 ||
            strcmp(e.field, "tls.key") != 0 || !strstr(e.message, "the key is encrypted") ||
            !strstr(e.message, "openssl pkey"))
            bad |= 8 << i;
    }
    memset(&e, 0, sizeof e);
    char pin[80];
    json_t *f = tlscert_facts(cert);
    if (tlscert_check(cert, KEY_A, &e) != -1 || strcmp(e.field, "tls.certificate") != 0 || f ||
        tlscert_pin(cert, pin, sizeof pin) != -1)
        bad |= 32;
    json_decref(f);
    fflush(stderr);
    if (lseek(pfd, 0, SEEK_END) != 0)
        bad |= 64; /* something asked for a passphrase */
    free(pkcs8);
    free(both);
    free(cert);
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(in);
    BIO_free(kout);
    BIO_free(cin);
    BIO_free(cout);
    return bad;
}

static void test_tlscert_encrypted(void **state)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(encrypted_pem_child());
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    CHECK(!WIFSIGNALED(st), "child killed by signal %d (SIGALRM: it waited for a passphrase)",
          WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exit %d", WEXITSTATUS(st));
}

static void test_settings_tls(void **state)
{
    struct settings cur, out;
    struct err e = {0};
    assert_int_equal(settings_init(&cur), 0);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"tls\":{\"certificate\":\""
         "x"
         "\"}}",
         "tls.key"},
        {"{\"tls\":{\"key\":\"x\"}}", "tls.certificate"},
        {"{\"tls\":{\"certificate\":7}}", "tls.certificate"},
        {"{\"tls\":{\"chain\":\"x\"}}", "tls.chain"},
        {"{\"tls\":true}", "tls"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *body = json_loads(bad[i].body, 0, NULL);
        assert_non_null(body);
        CHECK(settings_merge(&cur, body, &out, &e) == -1, "%s merged", bad[i].body);
        CHECK(strcmp(e.field, bad[i].field) == 0, "%s: field %s", bad[i].body, e.field);
        settings_free(&out);
        json_decref(body);
    }
    json_t *body = json_pack("{s:{s:s, s:s}}", "tls", "certificate", CERT_A, "key", KEY_B);
    assert_int_equal(settings_merge(&cur, body, &out, &e), -1);
    assert_string_equal(e.field, "tls.key");
    settings_free(&out);
    json_decref(body);

    body = json_pack("{s:{s:s, s:s}}", "tls", "certificate", CERT_A, "key", KEY_A);
    assert_int_equal(settings_merge(&cur, body, &out, &e), 0);
    json_decref(body);
    /* the key is never shown; the certificate by its facts */
    json_t *pub = settings_public_json(&out);
    char *text = json_dumps(pub, JSON_COMPACT);
    assert_null(strstr(text, "PRIVATE"));
    assert_null(strstr(text, "BEGIN"));
    assert_non_null(strstr(text, "\"enabled\":true"));
    assert_non_null(strstr(text, "198.18.0.1"));
    free(text);
    json_decref(pub);

    /* the registry speaks HTTPS with both files, in the hashed upload */
    json_t *c = regconfig_registry(&out, 0);
    text = json_dumps(json_object_get(json_object_get(c, "http"), "tls"),
                      JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"certificate\":\"" REGCONFIG_TLS_CERT_PATH
                              "\",\"key\":\"" REGCONFIG_TLS_KEY_PATH "\"}");
    free(text);
    json_decref(c);
    static const struct spec_opts o = {
        .registry_image = "r", .gateway_image = "g", .native_image = "n"};
    struct spec_set with, without;
    assert_int_equal(spec_build(&out, &o, &with, &e), 0);
    assert_int_equal(spec_build(&cur, &o, &without, &e), 0);
    assert_string_not_equal(with.hash, without.hash);
    char list[512];
    tar_list(&with.c[0].tar, list, sizeof list, NULL);
    assert_string_equal(list, "etc/storj-registry/config.yml\netc/storj-registry/tls.crt\n"
                              "etc/storj-registry/tls.key\n");
    tar_list(&with.c[0].tar, list, sizeof list, "etc/storj-registry/tls.key");
    assert_string_equal(list, KEY_A);
    spec_free(&with);
    spec_free(&without);

    /* a key left out or empty is kept; null clears both */
    struct settings next;
    body = json_pack("{s:{s:s}}", "tls", "key", "");
    assert_int_equal(settings_merge(&out, body, &next, &e), 0);
    assert_string_equal(next.tls_key, KEY_A);
    settings_free(&next);
    json_decref(body);
    body = json_pack("{s:n}", "tls");
    assert_int_equal(settings_merge(&out, body, &next, &e), 0);
    assert_null(next.tls_cert);
    assert_null(next.tls_key);
    settings_free(&next);
    json_decref(body);

    /* the file keeps both */
    char dir[] = "/tmp/test-users-tls.XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/settings.json", dir);
    assert_int_equal(settings_save(path, &out, &e), 0);
    assert_int_equal(settings_init(&next), 0);
    assert_int_equal(settings_load(path, &next, &e), 0);
    assert_string_equal(next.tls_cert, CERT_A);
    assert_string_equal(next.tls_key, KEY_A);
    settings_free(&next);
    unlink(path);
    rmdir(dir);
    settings_free(&out);
    settings_free(&cur);
}

/* ---- the API's routes and body checks (no manager needed) ------------- */

static void test_routes(void **state)
{
    static const struct {
        const char *method, *path;
        int rc;
        enum api_route route;
        const char *allow;
    } cases[] = {
        {"GET", "/api/users", 0, ROUTE_USERS, NULL},
        {"POST", "/api/users", 0, ROUTE_USERS, NULL},
        {"POST", "/api/users/", 0, ROUTE_USERS, NULL},
        {"DELETE", "/api/users", 405, 0, "GET, POST"},
        {"DELETE", "/api/users/alice", 0, ROUTE_USER, NULL},
        {"GET", "/api/users/alice", 405, 0, "DELETE"},
        {"PUT", "/api/users/alice/password", 0, ROUTE_USER_PASSWORD, NULL},
        {"PUT", "/api/users/alice/password/", 0, ROUTE_USER_PASSWORD, NULL},
        {"POST", "/api/users/alice/password", 405, 0, "PUT"},
        {"PUT", "/api/users/alice/other", 404, 0, NULL},
        {"PUT", "/api/users//password", 404, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum api_route r = 0;
        const char *allow = NULL;
        int rc = api_route(cases[i].method, cases[i].path, &r, &allow);
        CHECK(rc == cases[i].rc, "%s %s: %d", cases[i].method, cases[i].path, rc);
        CHECK(rc || r == cases[i].route, "%s %s: route %d", cases[i].method, cases[i].path, r);
        CHECK(!cases[i].allow || (allow && strcmp(allow, cases[i].allow) == 0), "%s %s: allow %s",
              cases[i].method, cases[i].path, allow ? allow : "-");
    }
}

/* Bodies refused before the manager is asked (m is NULL: reaching it
 * would crash the test). */
static void test_bad_bodies(void **state)
{
    static const struct {
        const char *method, *path, *body;
        int status;
        const char *field;
    } cases[] = {
        {"POST", "/api/users", "", 400, NULL},
        {"POST", "/api/users", "[]", 400, NULL},
        {"POST", "/api/users", "{}", 400, "name"},
        {"POST", "/api/users", "{\"name\":7}", 400, "name"},
        {"POST", "/api/users", "{\"name\":null}", 400, "name"},
        {"POST", "/api/users", "{\"name\":\"a\",\"password\":12}", 400, "password"},
        {"POST", "/api/users", "{\"name\":\"a\",\"admin\":true}", 400, "admin"},
        {"PUT", "/api/users/a/password", "{\"name\":\"b\"}", 400, "name"},
        {"PUT", "/api/users/a/password", "{\"password\":[]}", 400, "password"},
        {"PUT", "/api/users/a/password", "not json", 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct api_request req = {.method = cases[i].method,
                                  .path = cases[i].path,
                                  .body = cases[i].body,
                                  .body_len = strlen(cases[i].body)};
        struct api_response res = {0};
        api_handle(NULL, &req, &res);
        CHECK(res.status == cases[i].status, "case %zu: %d", i, res.status);
        const char *field =
            json_string_value(json_object_get(json_object_get(res.body, "error"), "field"));
        CHECK(cases[i].field ? field && strcmp(field, cases[i].field) == 0 : field == NULL,
              "case %zu: field %s", i, field ? field : "-");
        json_decref(res.body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_hash_is_bcrypt),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_htpasswd_text),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_regconfig_auth),
        cmocka_unit_test(test_spec_htpasswd),
        cmocka_unit_test(test_bind_loopback),
        cmocka_unit_test(test_tlscert),
        cmocka_unit_test(test_tlscert_encrypted),
        cmocka_unit_test(test_settings_tls),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_bad_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
