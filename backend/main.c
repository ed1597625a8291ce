/* storj-registryd: the Storj Registry backend. Parses options, starts the
 * manager and the HTTP listeners, waits for SIGINT/SIGTERM. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docker.h"
#include "indexer.h"
#include "http.h"
#include "lean.h"
#include "manager.h"

#define DEFAULT_SOCKET "/run/guest-services/backend.sock"
#define DEFAULT_UI "/ui"
#define DEFAULT_STATE "/data"
#define DEFAULT_DOCKER "/var/run/docker.sock"
#define DEFAULT_REGISTRY_IMAGE "registry:3"
#define DEFAULT_GATEWAY_IMAGE "storjlabs/gateway:1.11.0"
#define DEFAULT_NATIVE_IMAGE "ghcr.io/elek/distribution:618d19fb"

struct options {
    const char *socket, *listen, *ui, *state, *docker, *network;
    const char *registry_image, *gateway_image, *native_image;
    int monitor_ms;
};

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: storj-registryd [options]\n"
        "Runs a private Docker registry on Storj, S3 or a local volume, controlled over HTTP.\n"
        "\n"
        "  --socket PATH          extension socket, '' for none      [$SR_SOCKET, %s]\n"
        "  --listen ADDR:PORT     standalone mode on loopback TCP: API + UI [$SR_LISTEN]\n"
        "  --ui DIR               UI files served in standalone mode [$SR_UI_DIR, %s]\n"
        "  --state-dir DIR        where the settings live            [$SR_STATE_DIR, %s]\n"
        "  --docker-socket PATH   the Docker engine                  [$SR_DOCKER_SOCKET, %s]\n"
        "  --network publish|host publish the registry port, or run it in the host network\n"
        "                         on bind:port                       [$SR_NETWORK, publish]\n"
        "  --registry-image IMG   registry image                     [$SR_REGISTRY_IMAGE, %s]\n"
        "  --gateway-image IMG    Storj gateway image (storj mode)   [$SR_GATEWAY_IMAGE, %s]\n"
        "  --native-image IMG     native Storj driver registry       [$SR_NATIVE_IMAGE, %s]\n"
        "  --monitor-interval MS  how often Docker is checked when idle [$SR_MONITOR_MS, 2000]\n"
        "  the index (index.db in the state folder): $SR_INDEX=off turns it off;\n"
        "  $SR_INDEX_RATE registry requests a second while reading (50); $SR_INDEX_PERIOD\n"
        "  seconds between readings of the whole registry (300)\n"
        "  --help, --version\n",
        DEFAULT_SOCKET, DEFAULT_UI, DEFAULT_STATE, DEFAULT_DOCKER, DEFAULT_REGISTRY_IMAGE,
        DEFAULT_GATEWAY_IMAGE, DEFAULT_NATIVE_IMAGE);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v ? v : fallback;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .socket = env_or("SR_SOCKET", DEFAULT_SOCKET),
        .listen = env_or("SR_LISTEN", NULL),
        .ui = env_or("SR_UI_DIR", DEFAULT_UI),
        .state = env_or("SR_STATE_DIR", DEFAULT_STATE),
        .docker = env_or("SR_DOCKER_SOCKET", DEFAULT_DOCKER),
        .network = env_or("SR_NETWORK", "publish"),
        .registry_image = env_or("SR_REGISTRY_IMAGE", DEFAULT_REGISTRY_IMAGE),
        .gateway_image = env_or("SR_GATEWAY_IMAGE", DEFAULT_GATEWAY_IMAGE),
        .native_image = env_or("SR_NATIVE_IMAGE", DEFAULT_NATIVE_IMAGE),
        .monitor_ms = atoi(env_or("SR_MONITOR_MS", "2000")),
    };
    static const struct option longs[] = {
        {"socket", required_argument, 0, 's'},
        {"listen", required_argument, 0, 'l'},
        {"ui", required_argument, 0, 'u'},
        {"state-dir", required_argument, 0, 'd'},
        {"docker-socket", required_argument, 0, 'D'},
        {"network", required_argument, 0, 'n'},
        {"registry-image", required_argument, 0, 'r'},
        {"gateway-image", required_argument, 0, 'g'},
        {"native-image", required_argument, 0, 'N'},
        {"monitor-interval", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 's':
            o->socket = optarg;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'u':
            o->ui = optarg;
            break;
        case 'd':
            o->state = optarg;
            break;
        case 'D':
            o->docker = optarg;
            break;
        case 'n':
            o->network = optarg;
            break;
        case 'r':
            o->registry_image = optarg;
            break;
        case 'g':
            o->gateway_image = optarg;
            break;
        case 'N':
            o->native_image = optarg;
            break;
        case 'm':
            o->monitor_ms = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("storj-registryd %s\n", SR_VERSION);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "storj-registryd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (strcmp(o->network, "publish") != 0 && strcmp(o->network, "host") != 0) {
        fprintf(stderr, "storj-registryd: --network must be publish or host\n");
        return -1;
    }
    if (o->monitor_ms < 100 || o->monitor_ms > 600000) {
        fprintf(stderr, "storj-registryd: --monitor-interval must be 100 to 600000 ms\n");
        return -1;
    }
    return 0;
}

/* The IPv4 gateway of Docker's default bridge (where a published
 * registry reaches this host), or -1 when Docker does not say. */
static int bridge_gateway(const char *socket, char *ip, size_t len)
{
    struct docker d;
    struct err e = {0};
    struct buf out = {.max = 256 * 1024};
    long status = 0;
    int rc = -1;
    if (docker_init(&d, socket))
        return -1;
    if (docker_negotiate(&d, &e) == 0 &&
        docker_call(&d, "GET", "/networks/bridge", NULL, NULL, 0, &status, &out, 5, &e) == 0 &&
        status == 200) {
        json_t *n = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(n, "IPAM"), "Config"), i, c)
        {
            const char *gw = json_string_value(json_object_get(c, "Gateway"));
            if (rc && gw && strchr(gw, '.') && !strchr(gw, ':') && strlen(gw) < len) {
                snprintf(ip, len, "%s", gw);
                rc = 0;
            }
        }
        json_decref(n);
    }
    if (rc)
        log_error("the default bridge's gateway is unknown (%s): pushes show in the tab after "
                  "the next reading of the registry",
                  e.message[0] ? e.message : "Docker did not name one");
    buf_free(&out);
    docker_cleanup(&d);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct err e = {0};
    struct manager *m = NULL;
    struct http_server *srv = NULL;
    int rc = 1;

    if (parse(argc, argv, &o))
        return 2;
    /* a handful of threads that allocate little: one malloc arena per
     * thread would only hold on to freed pages */
    mallopt(M_ARENA_MAX, 1);
    if (mkdir(o.state, 0700) && errno != EEXIST) {
        fprintf(stderr, "storj-registryd: cannot create the state folder %s: %s\n", o.state,
                strerror(errno));
        return 1;
    }
    /* signals are taken by sigwait below, in this thread only */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* TLS costs memory only when an https call needs it: the Docker socket
     * and the registry speak plain HTTP. curl_global_init initialises
     * OpenSSL unconditionally (curl >= 7.57); without these NO_ flags that
     * loads the configuration, every cipher and digest by name and the error
     * strings up front, 1.3 MiB of resident pages measured
     * (bench/results/latest.md). OpenSSL still fetches what a TLS handshake
     * needs on the first one, thread-safely (its own run-once locks). */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
                            OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
                        NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "storj-registryd: curl_global_init failed\n");
        return 1;
    }

    struct manager_opts mo = {
        .state_dir = o.state,
        .docker_socket = o.docker,
        .spec = {.registry_image = o.registry_image,
                 .gateway_image = o.gateway_image,
                 .native_image = o.native_image,
                 .host_network = strcmp(o.network, "host") == 0},
        .monitor_interval_ms = o.monitor_ms,
    };
    /* the index first: the registry's configuration names its listener */
    if (strcmp(env_or("SR_INDEX", "on"), "off") != 0) {
        char ip[64] = "127.0.0.1";
        if (!mo.spec.host_network && bridge_gateway(o.docker, ip, sizeof ip))
            ip[0] = '\0';
        struct indexer_opts io = {.state_dir = o.state,
                                  .events_ip = ip,
                                  .rate = atof(env_or("SR_INDEX_RATE", "50")),
                                  .period_s = atol(env_or("SR_INDEX_PERIOD", "300")),
                                  .access = manager_registry_access};
        struct err ie = {0};
        if (indexer_start(&io, &ie))
            log_error("no index (browsing reads the registry): %s", ie.message);
    }
    m = manager_new(&mo, &e);
    if (!m) {
        log_error("cannot start: %s", e.message);
        goto out;
    }
    indexer_set_access_ctx(m);
    struct http_opts ho = {.socket_path = o.socket, .listen = o.listen, .ui_dir = o.ui};
    srv = http_start(&ho, m, &e);
    if (!srv) {
        log_error("cannot start: %s", e.message);
        goto out;
    }
    /* what start-up touched (settings, TLS set-up, the first JSON) need not
     * stay resident: see lean.h */
    lean_file_pages();
    int has_sock = o.socket && *o.socket;
    log_info("storj-registryd %s ready on %s%s%s%s%s (docker %s, network %s)", SR_VERSION,
             has_sock ? o.socket : "", has_sock && o.listen ? " and " : "",
             o.listen ? "http://" : "", o.listen ? o.listen : "", o.listen ? "/" : "", o.docker,
             o.network);
    int sig = 0;
    sigwait(&set, &sig);
    log_info("signal %d: shutting down", sig);
    rc = 0;
out:
    http_stop(srv);
    indexer_stop();
    manager_free(m);
    curl_global_cleanup();
    return rc;
}
