/* What the containers are told: the registry's configuration document (JSON,
 * which its YAML parser reads) and the self-hosted gateway's config file,
 * generated from the settings. Pure. */
#ifndef SR_REGCONFIG_H
#define SR_REGCONFIG_H

#include <jansson.h>

#include "settings.h"

/* Where the self-hosted gateway serves S3 inside the shared network namespace. */
#define REGCONFIG_GATEWAY_ADDR "127.0.0.1:7777"
#define REGCONFIG_PATH "/etc/storj-registry/config.yml"
#define REGCONFIG_GATEWAY_PATH "/root/.local/share/storj/gateway/config.yaml"
#define REGCONFIG_DATA_DIR "/var/lib/registry"
/* The registry's users (users.h), next to its configuration; read by the
 * registry at each login whose file changed (distribution 3 compares the
 * file's modification time). */
#define REGCONFIG_HTPASSWD_PATH "/etc/storj-registry/htpasswd"
#define REGCONFIG_REALM "Storj Registry"
/* With TLS (settings tls.*), the registry's certificate and key. */
#define REGCONFIG_TLS_CERT_PATH "/etc/storj-registry/tls.crt"
#define REGCONFIG_TLS_KEY_PATH "/etc/storj-registry/tls.key"

/* The registry configuration for s. host_network: the registry listens on
 * bind:port itself instead of :5000 behind a published port. With users
 * (s->users > 0), auth.htpasswd at REGCONFIG_HTPASSWD_PATH. New reference,
 * holds secrets: never log or return it. */
json_t *regconfig_registry(const struct settings *s, int host_network);

/* The Docker Hub cache's configuration (s->cache_*): the registry's, in
 * proxy mode towards the upstream (with the Docker Hub login when set, and
 * the ttl), its storage root apart (SPEC_CACHE_PREFIX in the bucket; the
 * local mode's volume is its own), listening on s->cache_port (host
 * network), SPEC_CACHE_INNER_PORT (in the gateway's namespace) or 5000.
 * Holds secrets. New reference, or NULL. */
json_t *regconfig_cache(const struct settings *s, int host_network);

/* The self-hosted gateway's config.yaml for storj mode (malloc'ed text, holds
 * the access grant, or with unencryptedKeys its copy with unencrypted object
 * keys; free with secret_free). NULL on bad input or no memory. */
char *regconfig_gateway(const struct settings *s);

#endif
