#include "users.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int users_name_valid(const char *name, const char **why)
{
    size_t n = strlen(name);
    const char *w = NULL;
    if (n == 0 || n > USERS_NAME_MAX)
        w = "must be 1 to 64 characters long";
    for (size_t i = 0; !w && i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '_' && c != '-')
            w = "may hold only letters, digits, dots, underscores and hyphens";
        else if (i == 0 && !alnum)
            w = "must start with a letter or a digit";
    }
    if (why)
        *why = w;
    return w == NULL;
}

int users_password_valid(const char *pw, const char **why)
{
    size_t n = strlen(pw);
    const char *w = NULL;
    if (n < USERS_PASSWORD_MIN)
        w = "must be at least 12 characters long";
    else if (n > USERS_PASSWORD_MAX)
        w = "must be at most 72 bytes long (bcrypt reads no more)";
    for (size_t i = 0; !w && i < n; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            w = "must not hold control characters";
    if (why)
        *why = w;
    return w == NULL;
}

/* A bcrypt hash as crypt(3) writes it: $2a$, $2b$ or $2y$, two cost
 * digits, '$', 53 characters of bcrypt's base64. */
static int hash_shape_ok(const char *h)
{
    static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
        h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
        return 0;
    for (const char *p = h + 7; *p; p++)
        if (!strchr(b64, *p))
            return 0;
    return 1;
}

int users_hash(const char *pw, int cost, char *out, size_t len, struct err *e)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    /* NULL random bytes: libxcrypt takes them from the kernel */
    if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof salt))
        return err_set(e, 500, E_HASH_FAILED, NULL, "could not make a bcrypt salt: %s",
                       strerror(errno));
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    const char *h = crypt_r(pw, salt, cd);
    int rc = 0;
    if (!h || !hash_shape_ok(h) || strlen(h) >= len)
        rc = err_set(e, 500, E_HASH_FAILED, NULL, "bcrypt hashing failed");
    else
        snprintf(out, len, "%s", h);
    secret_wipe(cd, sizeof *cd);
    free(cd);
    return rc;
}

int users_verify(const char *pw, const char *hash)
{
    if (!hash_shape_ok(hash))
        return 0;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return 0;
    const char *h = crypt_r(pw, hash, cd);
    int ok = 0;
    if (h && strlen(h) == strlen(hash)) {
        unsigned char diff = 0;
        for (size_t i = 0; hash[i]; i++)
            diff |= (unsigned char)(h[i] ^ hash[i]);
        ok = diff == 0;
    }
    secret_wipe(cd, sizeof *cd);
    free(cd);
    return ok;
}

int users_generate_password(char *out, size_t len)
{
    /* 56 symbols, none to mistake for another (0/O, 1/l/I): 24 of them
     * carry 139 bits */
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    const unsigned n = sizeof alphabet - 1;
    if (len < USERS_GENERATED_LEN + 1)
        return -1;
    size_t got = 0;
    while (got < USERS_GENERATED_LEN) {
        unsigned char r[32];
        ssize_t k = getrandom(r, sizeof r, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        /* rejection sampling keeps every symbol equally likely */
        for (ssize_t i = 0; i < k && got < USERS_GENERATED_LEN; i++)
            if (r[i] < 256 - 256 % n)
                out[got++] = alphabet[r[i] % n];
        secret_wipe(r, sizeof r);
    }
    out[got] = '\0';
    return 0;
}

static int new_internal(struct users *u, struct err *e)
{
    if (random_hex(u->internal_password, 24))
        return err_set(e, 500, E_NO_RANDOM, NULL, "no random bytes from the kernel");
    return users_hash(u->internal_password, USERS_BCRYPT_COST, u->internal_hash,
                      sizeof u->internal_hash, e);
}

int users_init(struct users *u, struct err *e)
{
    memset(u, 0, sizeof *u);
    return new_internal(u, e);
}

void users_clear(struct users *u)
{
    secret_wipe(u, sizeof *u);
}

int users_find(const struct users *u, const char *name)
{
    for (int i = 0; i < u->count; i++)
        if (strcmp(u->u[i].name, name) == 0)
            return i;
    return -1;
}

static int check_password(const char *pw, struct err *e)
{
    const char *why;
    if (!users_password_valid(pw, &why))
        return err_set(e, 400, E_INVALID_VALUE, "password", "the password %s", why);
    return 0;
}

int users_add(struct users *u, const char *name, const char *pw, int cost, struct err *e)
{
    const char *why;
    if (!users_name_valid(name, &why))
        return err_set(e, 400, E_INVALID_VALUE, "name", "the user name %s", why);
    if (check_password(pw, e))
        return -1;
    if (users_find(u, name) >= 0)
        return err_set(e, 409, E_USER_EXISTS, "name",
                       "a user named %s exists: reset its password instead", name);
    if (u->count >= USERS_MAX)
        return err_set(e, 409, E_TOO_MANY_USERS, "name", "at most %d users", USERS_MAX);
    char hash[USERS_HASH_MAX];
    if (users_hash(pw, cost, hash, sizeof hash, e))
        return -1;
    struct users_entry *n = &u->u[u->count++];
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->hash, sizeof n->hash, "%s", hash);
    return 0;
}

int users_remove(struct users *u, const char *name, struct err *e)
{
    int i = users_find(u, name);
    if (i < 0)
        return err_set(e, 404, E_NO_SUCH_USER, NULL, "there is no user %.64s", name);
    memmove(&u->u[i], &u->u[i + 1], (size_t)(u->count - i - 1) * sizeof u->u[0]);
    u->count--;
    memset(&u->u[u->count], 0, sizeof u->u[0]);
    return 0;
}

int users_set_password(struct users *u, const char *name, const char *pw, int cost, struct err *e)
{
    int i = users_find(u, name);
    if (i < 0)
        return err_set(e, 404, E_NO_SUCH_USER, NULL, "there is no user %.64s", name);
    if (check_password(pw, e))
        return -1;
    char hash[USERS_HASH_MAX];
    if (users_hash(pw, cost, hash, sizeof hash, e))
        return -1;
    snprintf(u->u[i].hash, sizeof u->u[i].hash, "%s", hash);
    return 0;
}

char *users_htpasswd(const struct users *u)
{
    struct buf b = {0};
    if (buf_printf(&b, "# written by storj-registryd: the registry's users (bcrypt)\n"))
        goto fail;
    for (int i = 0; i < u->count; i++)
        if (buf_printf(&b, "%s:%s\n", u->u[i].name, u->u[i].hash))
            goto fail;
    if (buf_printf(&b, "%s:%s\n", USERS_INTERNAL_NAME, u->internal_hash))
        goto fail;
    return b.data;
fail:
    buf_free(&b);
    return NULL;
}

int users_parse(struct users *u, const char *text, size_t len, struct err *e)
{
    struct users next = *u;
    next.count = 0;
    next.internal_hash[0] = '\0';
    int lineno = 0, rc = -1;
    size_t off = 0;
    while (off < len) {
        const char *line = text + off;
        const char *nl = memchr(line, '\n', len - off);
        size_t n = nl ? (size_t)(nl - line) : len - off;
        off += n + (nl ? 1 : 0);
        lineno++;
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (n == 0 || line[0] == '#')
            continue;
        const char *colon = memchr(line, ':', n);
        size_t nl_name = colon ? (size_t)(colon - line) : 0;
        size_t nl_hash = colon ? n - nl_name - 1 : 0;
        char name[USERS_NAME_MAX + 1], hash[USERS_HASH_MAX];
        if (!colon || nl_name == 0 || nl_name > USERS_NAME_MAX || nl_hash >= sizeof hash) {
            err_set(e, 500, E_STATE_CORRUPT, NULL, "htpasswd line %d is not name:hash", lineno);
            goto out;
        }
        memcpy(name, line, nl_name);
        name[nl_name] = '\0';
        memcpy(hash, colon + 1, nl_hash);
        hash[nl_hash] = '\0';
        if (memchr(name, '\0', nl_name) || !hash_shape_ok(hash)) {
            err_set(e, 500, E_STATE_CORRUPT, NULL, "htpasswd line %d has no bcrypt hash", lineno);
            goto out;
        }
        if (strcmp(name, USERS_INTERNAL_NAME) == 0) {
            snprintf(next.internal_hash, sizeof next.internal_hash, "%s", hash);
            continue;
        }
        if (!users_name_valid(name, NULL) || users_find(&next, name) >= 0 ||
            next.count >= USERS_MAX) {
            err_set(e, 500, E_STATE_CORRUPT, NULL,
                    "htpasswd line %d: a bad or repeated user name, or too many users", lineno);
            goto out;
        }
        snprintf(next.u[next.count].name, sizeof next.u[0].name, "%s", name);
        snprintf(next.u[next.count].hash, sizeof next.u[0].hash, "%s", hash);
        next.count++;
    }
    *u = next;
    rc = 0;
out:
    secret_wipe(&next, sizeof next);
    return rc;
}

json_t *users_public_json(const struct users *u)
{
    json_t *list = json_array();
    for (int i = 0; list && i < u->count; i++)
        if (json_array_append_new(list, json_pack("{s:s}", "name", u->u[i].name))) {
            json_decref(list);
            return NULL;
        }
    return list ? json_pack("{s:o, s:i}", "users", list, "count", u->count) : NULL;
}

/* ---- the files ---------------------------------------------------------- */

/* Reads a whole small file into a malloc'ed NUL-terminated text. 0 with
 * *out (NULL when the file does not exist), or -1 with e. */
static int read_small(const char *path, char **out, size_t *len, struct err *e)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0
                               : err_set(e, 500, E_STATE_UNREADABLE, NULL, "cannot read %s: %s",
                                         path, strerror(errno));
    struct buf b = {.max = USERS_MAX_FILE};
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (r > 0 && buf_append(&b, chunk, (size_t)r))) {
            int overflow = b.overflow;
            close(fd);
            if (b.data)
                secret_wipe(b.data, b.len);
            buf_free(&b);
            secret_wipe(chunk, sizeof chunk);
            return overflow ? err_set(e, 500, E_STATE_CORRUPT, NULL, "%s is larger than %d bytes",
                                      path, USERS_MAX_FILE)
                            : err_set(e, 500, E_STATE_UNREADABLE, NULL, "cannot read %s", path);
        }
        if (r == 0)
            break;
    }
    close(fd);
    secret_wipe(chunk, sizeof chunk);
    if (!b.data && !(b.data = calloc(1, 1)))
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    *out = b.data;
    *len = b.len;
    return 0;
}

int users_load(const char *dir, struct users *u, struct err *e)
{
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    int rc = -1, dirty = 0;
    memset(u, 0, sizeof *u);

    if (snprintf(path, sizeof path, "%s/%s", dir, USERS_FILE) >= (int)sizeof path)
        return err_set(e, 500, E_STATE_UNREADABLE, NULL, "state path too long");
    if (read_small(path, &text, &len, e))
        return -1;
    if (text && users_parse(u, text, len, e))
        goto out;
    free(text);
    text = NULL;

    snprintf(path, sizeof path, "%s/%s", dir, USERS_CREDENTIAL_FILE);
    if (read_small(path, &text, &len, e))
        goto out;
    if (text) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        if (len < sizeof u->internal_password)
            memcpy(u->internal_password, text, len + 1);
        secret_wipe(text, len);
    }
    /* the credential must open the htpasswd's internal line, else both are
     * made again (a file lost or changed by hand) */
    if (!u->internal_password[0] || !u->internal_hash[0] ||
        !users_verify(u->internal_password, u->internal_hash)) {
        if (new_internal(u, e))
            goto out;
        dirty = 1;
    }
    rc = dirty;
out:
    free(text);
    if (rc < 0)
        users_clear(u);
    return rc;
}

/* dir/name written atomically (util.h: temp file, 0600, fsync, rename) */
static int write_atomic(const char *dir, const char *name, const char *data, size_t n,
                        struct err *e)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return err_set(e, 500, E_STATE_UNWRITABLE, NULL, "state path too long");
    return file_write_atomic(path, data, n, "registry users", e);
}

int users_save(const char *dir, const struct users *u, struct err *e)
{
    char cred[sizeof u->internal_password + 2];
    char *text = users_htpasswd(u);
    if (!text)
        return err_set(e, 500, E_NO_MEMORY, NULL, "out of memory");
    snprintf(cred, sizeof cred, "%s\n", u->internal_password);
    /* the credential first: an htpasswd whose internal line the saved
     * credential does not open is made again at the next start */
    int rc = write_atomic(dir, USERS_CREDENTIAL_FILE, cred, strlen(cred), e) ||
                     write_atomic(dir, USERS_FILE, text, strlen(text), e)
                 ? -1
                 : 0;
    secret_wipe(cred, sizeof cred);
    secret_wipe(text, strlen(text));
    free(text);
    if (rc == 0) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}
