/* Storj's Auth Service: registering an access grant for S3 credentials on
 * the hosted gateway (storj.md §2.2). Knows HTTP and that one endpoint. */
#ifndef SR_AUTHSVC_H
#define SR_AUTHSVC_H

#include "util.h"

#define AUTHSVC_MAX_RESPONSE 16384

struct authsvc_creds {
    char *access_key; /* caller frees */
    char *secret_key; /* caller frees with secret_free */
    char *endpoint;   /* may be NULL when the service names none */
};

/* POST {base}/v1/access {"access_grant":grant,"public":false}. Returns 0 with
 * out filled, or -1 with e saying what the service answered (its text, never
 * the grant). */
int authsvc_register(const char *base, const char *grant, struct authsvc_creds *out, struct err *e);
void authsvc_creds_free(struct authsvc_creds *c);

#endif
