/* The user's settings: validation of PUT /api/config bodies, the masked
 * view every response shows, and the 0600 file they live in. Pure except
 * settings_load/settings_save. */
#ifndef SR_SETTINGS_H
#define SR_SETTINGS_H

#include <jansson.h>

#include "util.h"

#define SETTINGS_MAX_FILE (64 * 1024)
#define SETTINGS_DEFAULT_PORT 9999
#define SETTINGS_DEFAULT_BIND "127.0.0.1"
#define SETTINGS_DEFAULT_REGION "us-east-1"
#define SETTINGS_HOSTED_ENDPOINT "https://gateway.storjshare.io"
#define SETTINGS_AUTH_SERVICE "https://auth.storjshare.io"
/* The Docker Hub cache (a registry in proxy mode, spec.h) */
#define SETTINGS_CACHE_PORT 9998
#define SETTINGS_CACHE_UPSTREAM "https://registry-1.docker.io"
#define SETTINGS_CACHE_TTL "168h"

enum mode { MODE_LOCAL, MODE_S3, MODE_STORJ, MODE_STORJ_HOSTED, MODE_STORJ_NATIVE };

struct settings {
    int saved; /* 1 once the user saved settings (or a file was loaded) */
    enum mode mode;
    int port;
    char bind[64];
    char *bucket;
    char *access_grant; /* secret */
    char *s3_endpoint;
    char *s3_region;
    char *s3_access_key;
    char *s3_secret_key;    /* secret */
    char *auth_service;     /* storj-hosted: where grants are registered */
    int s3_keys_from_grant; /* storj-hosted: the keys came from registering the grant */
    /* storj, storj-hosted: the grant goes out (to the gateway, to the Auth
     * Service) as its copy with unencrypted object keys (grant.h) */
    int unencrypted_keys;
    /* Per installation, never shown: the key pair between the registry and
     * the self-hosted gateway, and the salt of the container spec hash. */
    char gw_access_key[41];
    char gw_secret_key[65];
    char salt[33];
    int desired_running; /* the user's last start/stop, so a restart of the backend resumes it */
    /* Registry users (users.h), kept by the users module, not by PUT
     * /api/config: how many there are (auth.htpasswd is on when > 0; in
     * the file so that running.json says what ran) and the htpasswd text
     * the registry gets (never in the settings file). */
    int users;
    char *htpasswd;
    char *registry_password; /* the internal credential's (users.h): a secret, never saved */
    /* the registry speaks HTTPS with these (tlscert.h): PEM, both or none */
    char *tls_cert;
    char *tls_key; /* secret */
    /* never saved: the registry's configuration for a clean-up, which keeps
     * it answering pulls while refusing writes (storage.maintenance.readonly) */
    int maintenance_readonly;
    /* The Docker Hub cache: a second registry in proxy mode, started and
     * stopped with this one, on its own port and storage root. upstream
     * NULL: Docker Hub. The user name and token are Docker Hub's (the
     * token a secret); ttl a Go duration ("0": never expire). */
    int cache_enabled;
    int cache_port;
    char *cache_upstream;
    char *cache_username;
    char *cache_token; /* secret */
    char cache_ttl[24];
};

/* Defaults (local mode, port 9999, loopback) with fresh random per-install keys. */
int settings_init(struct settings *s);
/* Deep copy; dst must be uninitialised or freed. 0 or -1 (memory). */
int settings_copy(struct settings *dst, const struct settings *src);
void settings_free(struct settings *s);

const char *settings_mode_name(enum mode m);
int settings_mode_parse(const char *name, enum mode *out);

/* Validates body (a PUT /api/config object) against cur and writes the merged
 * result to out (initialised by this call; free with settings_free even on
 * error). Fields left out keep their value; null clears; unknown fields,
 * wrong types and bad values fail with e->field naming the field. The mode's
 * required fields are checked on the merged result. Pure. */
int settings_merge(const struct settings *cur, json_t *body, struct settings *out, struct err *e);

/* 1 when bind is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x):
 * only then may the registry run without users. */
int settings_bind_loopback(const char *bind);

/* 1 when u is an http:// or https:// URL fit for an endpoint setting. */
int settings_url_valid(const char *u);

/* 1 when name follows Storj's bucket rules (which are S3's). */
int settings_bucket_valid(const char *name, const char **why);

/* The settings as responses show them: secrets replaced by facts
 * ({"set":true,...}). New reference. */
json_t *settings_public_json(const struct settings *s);

/* The access grant as it leaves the backend (the gateway's config in storj
 * mode, the Auth Service registration in storj-hosted): the saved grant, or
 * with unencryptedKeys its copy with unencrypted object keys. 0 with *out a
 * new string (a secret: secret_free), or -1 with e filled (400 naming
 * accessGrant). NULL grant: 0 with *out NULL. */
int settings_outgoing_grant(const struct settings *s, char **out, struct err *e);

/* The one list of the secrets settings hold or imply: the access grant,
 * the copy of it that goes out (unencryptedKeys), the S3 secret key and the
 * self-hosted gateway's key pair, the TLS key, the registry's internal
 * password (users.h) and the Docker Hub cache's token. Logs redact every one of them; no
 * response, label or container env may carry them. Fills out with copies
 * (NULL for those not set; free with settings_secrets_free); 0, or -1 when
 * memory ran out (nothing is left allocated). Decodes the grant: call it
 * outside locks. */
#define SETTINGS_SECRETS 9
int settings_secrets(const struct settings *s, char *out[SETTINGS_SECRETS]);
void settings_secrets_free(char *out[SETTINGS_SECRETS]);

/* 1 when ttl is a duration the cache takes: "0", or Go's units h, m, s
 * with whole numbers ("168h", "1h30m"), at most 23 characters. */
int settings_ttl_valid(const char *ttl);

/* 1 when unencryptedKeys applies in s's mode (storj, storj-hosted). */
int settings_unencrypted_applies(const struct settings *s);

/* Load from path; a missing file leaves defaults (saved = 0). 0 or -1. */
int settings_load(const char *path, struct settings *s, struct err *e);
/* Atomic save: temp file in the same folder, 0600, fsync, rename, fsync dir. */
int settings_save(const char *path, const struct settings *s, struct err *e);

/* Removes the temporary copies settings_save leaves when the process dies
 * in the middle of a save (path.tmp.PID; they may hold secrets). Returns
 * how many were removed. */
int settings_remove_temps(const char *path);

#endif
