/* Registry users: names and bcrypt hashes in the htpasswd file the registry
 * reads (distribution's auth.htpasswd), and the backend's own credential,
 * which its health probes and browsing use and no user ever sees. Hashes
 * come from libxcrypt (crypt_gensalt_rn "$2b$" + crypt_r). Pure except
 * users_load / users_save and the randomness of salts and passwords. */
#ifndef SR_USERS_H
#define SR_USERS_H

#include <jansson.h>

#include "util.h"

#define USERS_MAX 100
#define USERS_NAME_MAX 64
/* bcrypt reads at most 72 bytes of a password: a longer one would be
 * silently cut, so it is refused */
#define USERS_PASSWORD_MIN 12
#define USERS_PASSWORD_MAX 72
#define USERS_GENERATED_LEN 24
#define USERS_BCRYPT_COST 10
#define USERS_HASH_MAX 64 /* a bcrypt hash is 60 characters */
/* The backend's own user: a name no user can have (users' names start
 * with a letter or a digit), hidden from the list, never removable. */
#define USERS_INTERNAL_NAME "_storj-registryd"
/* In the state folder, both 0600 and written atomically. */
#define USERS_FILE "htpasswd"
#define USERS_CREDENTIAL_FILE "registry-credential"
#define USERS_MAX_FILE (64 * 1024)

struct users_entry {
    char name[USERS_NAME_MAX + 1];
    char hash[USERS_HASH_MAX];
};

struct users {
    int count;
    struct users_entry u[USERS_MAX];
    /* the internal credential: its password (a secret, in the credential
     * file) and its hash (in the htpasswd file) */
    char internal_password[64];
    char internal_hash[USERS_HASH_MAX];
};

/* No users and a fresh internal credential. 0, or -1 with e. */
int users_init(struct users *u, struct err *e);
/* Wipes everything (the internal password included). */
void users_clear(struct users *u);

/* 1 when name is a user name: 1 to 64 of [A-Za-z0-9._-], starting with a
 * letter or a digit; else 0 with *why (may be NULL) saying what is wrong. */
int users_name_valid(const char *name, const char **why);
/* 1 when pw is USERS_PASSWORD_MIN to USERS_PASSWORD_MAX bytes of printable
 * text (no control characters); else 0 with *why. */
int users_password_valid(const char *pw, const char **why);

/* bcrypt hash of pw with the given cost (4-31) and a random salt, into out
 * (at least USERS_HASH_MAX). 0, or -1 with e. */
int users_hash(const char *pw, int cost, char *out, size_t len, struct err *e);
/* 1 when pw matches the bcrypt hash (crypt_r), else 0. */
int users_verify(const char *pw, const char *hash);
/* A random password of USERS_GENERATED_LEN letters and digits (no look-
 * alikes) into out (at least USERS_GENERATED_LEN + 1). 0 or -1. */
int users_generate_password(char *out, size_t len);

/* Index of the user name, or -1. The internal user is not in the list. */
int users_find(const struct users *u, const char *name);
/* Adds name with pw (hashed with cost). 0, or -1 with e (400 naming "name"
 * or "password", 409 user_exists or too_many_users); u is unchanged on
 * failure. */
int users_add(struct users *u, const char *name, const char *pw, int cost, struct err *e);
/* Removes name. 0, or -1 with e (404 no_such_user; the internal user is
 * not a user). */
int users_remove(struct users *u, const char *name, struct err *e);
/* Replaces name's password. 0, or -1 with e (404, 400 "password"). */
int users_set_password(struct users *u, const char *name, const char *pw, int cost, struct err *e);

/* The htpasswd file: one "name:hash" line per user and the internal
 * user's line. Malloc'ed text (caller frees), NULL when out of memory. */
char *users_htpasswd(const struct users *u);
/* Parses an htpasswd text into u (users and the internal user's hash; the
 * internal password is left as it is). Blank and '#' lines are skipped.
 * 0, or -1 with e (a bad line, a bad name or hash, a repeated name). */
int users_parse(struct users *u, const char *text, size_t len, struct err *e);
/* {"users":[{"name"}...]} (never a hash). New reference. */
json_t *users_public_json(const struct users *u);

/* Loads dir/htpasswd and dir/registry-credential into u (initialised by
 * this call). Missing files give no users; a missing or unreadable
 * credential, or one its hash does not match, gives a new internal
 * credential. Returns 0 when the files are as u says, 1 when they must be
 * written (users_save), -1 with e. */
int users_load(const char *dir, struct users *u, struct err *e);
/* Writes both files (temp file, 0600, fsync, rename, fsync of dir). 0 or -1
 * with e (507 when the disk is full); the files are then the old ones. */
int users_save(const char *dir, const struct users *u, struct err *e);

#endif
