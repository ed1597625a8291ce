/* The registry's own TLS certificate and key (settings tls.certificate and
 * tls.key, PEM, given by the user): checked with OpenSSL before they are
 * saved, described without the key, and pinned for the backend's own
 * requests to the registry, which reach it on loopback under a name the
 * certificate does not carry. Pure. */
#ifndef SR_TLSCERT_H
#define SR_TLSCERT_H

#include <jansson.h>

#include "util.h"

/* PEM text past this size is refused (a chain of a few certificates fits) */
#define TLSCERT_MAX_PEM (24 * 1024)

/* 0 when cert is one or more PEM certificates (the first is the
 * registry's) and key a PEM private key that belongs to it; else -1 with e
 * (400 naming "tls.certificate" or "tls.key"). */
int tlscert_check(const char *cert, const char *key, struct err *e);

/* "sha256//<base64>" of the first certificate's public key (libcurl's
 * CURLOPT_PINNEDPUBLICKEY) into out. 0 or -1. */
int tlscert_pin(const char *cert, char *out, size_t len);

/* {"subject","names":[DNS and IP names],"notAfter"} of the first
 * certificate; new reference, NULL when it does not parse. */
json_t *tlscert_facts(const char *cert);

#endif
