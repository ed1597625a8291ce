#include "tlscert.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The passphrase callback for every PEM read. Without one (NULL) OpenSSL
 * asks on the terminal and waits: under `make run` a pasted encrypted key
 * would hang PUT /api/config with the settings lock held. This one refuses
 * and notes in *asked (an int, when not NULL) that a passphrase was wanted. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *asked)
{
    if (asked)
        *(int *)asked = 1;
    return -1;
}

static X509 *first_cert(const char *pem)
{
    if (!pem || strlen(pem) > TLSCERT_MAX_PEM)
        return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)strlen(pem));
    X509 *x = b ? PEM_read_bio_X509(b, NULL, refuse_passphrase, NULL) : NULL;
    BIO_free(b);
    return x;
}

int tlscert_check(const char *cert, const char *key, struct err *e)
{
    int rc = -1;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    BIO *b = NULL;
    if (!cert || strlen(cert) > TLSCERT_MAX_PEM || !strstr(cert, "-----BEGIN CERTIFICATE-----") ||
        !(x = first_cert(cert))) {
        err_set(e, 400, E_INVALID_VALUE, "tls.certificate",
                "tls.certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
        goto out;
    }
    int asked = 0;
    if (!key || strlen(key) > TLSCERT_MAX_PEM || !strstr(key, "PRIVATE KEY-----") ||
        !(b = BIO_new_mem_buf(key, (int)strlen(key))) ||
        !(k = PEM_read_bio_PrivateKey(b, NULL, refuse_passphrase, &asked))) {
        if (asked || (key && strstr(key, "ENCRYPTED")))
            err_set(e, 400, E_INVALID_VALUE, "tls.key",
                    "the key is encrypted: export it without a passphrase "
                    "(openssl pkey -in key.pem -out plain.pem)");
        else
            err_set(e, 400, E_INVALID_VALUE, "tls.key",
                    "tls.key must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        err_set(e, 400, E_INVALID_VALUE, "tls.key", "tls.key is not the key of tls.certificate");
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(k);
    BIO_free(b);
    X509_free(x);
    return rc;
}

int tlscert_pin(const char *cert, char *out, size_t len)
{
    X509 *x = first_cert(cert);
    unsigned char *der = NULL, md[32], b64[64];
    int rc = -1;
    if (!x)
        return -1;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (n > 0 && EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1 &&
        EVP_EncodeBlock(b64, md, 32) == 44 && snprintf(out, len, "sha256//%s", b64) < (int)len)
        rc = 0;
    OPENSSL_free(der);
    X509_free(x);
    return rc;
}

json_t *tlscert_facts(const char *cert)
{
    X509 *x = first_cert(cert);
    if (!x)
        return NULL;
    char cn[256] = "", at[32] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *names = json_array();
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        char buf[256] = "";
        if (g->type == GEN_DNS) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
            snprintf(buf, sizeof buf, "%.*s", ASN1_STRING_length(g->d.dNSName), (const char *)d);
        } else if (g->type == GEN_IPADD) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
            int l = ASN1_STRING_length(g->d.iPAddress);
            if (l == 4)
                snprintf(buf, sizeof buf, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
            else if (l == 16)
                for (int k = 0; k < 16; k += 2)
                    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%x", k ? ":" : "",
                             (unsigned)(d[k] << 8 | d[k + 1]));
        }
        str_utf8_clean(buf, strlen(buf));
        if (buf[0])
            json_array_append_new(names, json_string(buf));
    }
    GENERAL_NAMES_free(sans);
    str_utf8_clean(cn, strlen(cn));
    X509_free(x);
    return json_pack("{s:s, s:o, s:s?}", "subject", cn, "names", names, "notAfter",
                     at[0] ? at : NULL);
}
