#include "errors.h"

#include <stddef.h>

static const struct {
    const char *name;
    const char *hint;
} table[E__COUNT] = {
    [E_INVALID_JSON] = {"invalid_json", NULL},
    [E_INVALID_BODY] = {"invalid_body", NULL},
    [E_INVALID_TYPE] = {"invalid_type", NULL},
    [E_INVALID_VALUE] = {"invalid_value", NULL},
    [E_MISSING_FIELD] = {"missing_field", NULL},
    [E_UNKNOWN_FIELD] = {"unknown_field", NULL},
    [E_OUT_OF_RANGE] = {"out_of_range", NULL},
    [E_INCOMPLETE_SETTINGS] =
        {"incomplete_settings",
         "Open Settings, complete the fields for this storage mode and save."},
    [E_NOT_FOUND] = {"not_found", NULL},
    [E_METHOD_NOT_ALLOWED] = {"method_not_allowed", NULL},
    [E_BODY_TOO_LARGE] = {"body_too_large", NULL},
    [E_HEADERS_TOO_LARGE] = {"headers_too_large", NULL},
    [E_FORBIDDEN_HOST] = {"forbidden_host", NULL},
    [E_FORBIDDEN_ORIGIN] = {"forbidden_origin", NULL},
    [E_BUSY] = {"busy", "Wait for the running action to end, then try again."},
    [E_NOT_APPLICABLE] = {"not_applicable", NULL},
    [E_NAME_TAKEN] = {"name_taken", NULL},
    [E_BAD_OPTION] = {"bad_option", NULL},
    [E_INVALID_GRANT] = {"invalid_grant", NULL},
    [E_EMPTY] = {"empty", NULL},
    [E_WHITESPACE] = {"whitespace", NULL},
    [E_TOO_LONG] = {"too_long", NULL},
    [E_TRUNCATED] = {"truncated", NULL},
    [E_NOT_BASE58] = {"not_base58", NULL},
    [E_BAD_CHECKSUM] = {"bad_checksum", NULL},
    [E_BAD_VERSION] = {"bad_version", NULL},
    [E_API_KEY_NOT_GRANT] = {"api_key_not_grant", NULL},
    [E_S3_ACCESS_KEY_NOT_GRANT] = {"s3_access_key_not_grant", NULL},
    [E_S3_SECRET_KEY_NOT_GRANT] = {"s3_secret_key_not_grant", NULL},
    [E_BAD_KEY_LENGTH] = {"bad_key_length", NULL},
    [E_BAD_MACAROON] = {"bad_macaroon", NULL},
    [E_BAD_CAVEAT] = {"bad_caveat", NULL},
    [E_BAD_SATELLITE] = {"bad_satellite", NULL},
    [E_NO_SATELLITE] = {"no_satellite", NULL},
    [E_BAD_SCOPE] = {"bad_scope", NULL},
    [E_AUTH_SERVICE_UNREACHABLE] = {"auth_service_unreachable", NULL},
    [E_AUTH_SERVICE_REFUSED] = {"auth_service_refused", NULL},
    [E_AUTH_SERVICE_BAD_ANSWER] = {"auth_service_bad_answer", NULL},
    [E_DOCKER_UNREACHABLE] =
        {"docker_unreachable",
         "Start Docker (or check --docker-socket); Storj Registry reconnects by itself."},
    [E_DOCKER_BAD_ANSWER] = {"docker_bad_answer", "Restart Docker if this persists."},
    [E_DOCKER_BAD_VERSION] = {"docker_bad_version", NULL},
    [E_DOCKER_TOO_OLD] = {"docker_too_old", "Update Docker."},
    [E_DOCKER_TOO_NEW] = {"docker_too_new", "Update Storj Registry."},
    [E_DOCKER_RESPONSE_TOO_LARGE] = {"docker_response_too_large", NULL},
    [E_DOCKER_ERROR] = {"docker_error", NULL},
    [E_SOCKET] = {"socket", NULL},
    [E_PULL_FAILED] =
        {"pull_failed",
         "Check the network and the image name; with no network, load the image with docker load."},
    [E_NO_SUCH_IMAGE] = {"no_such_image", NULL},
    [E_CONFLICT] = {"conflict", NULL},
    [E_CREATE_FAILED] = {"create_failed", NULL},
    [E_CONFIG_FAILED] = {"config_failed", NULL},
    [E_START_FAILED] = {"start_failed",
                        "The image may not be a registry image: check the image setting."},
    [E_PORT_IN_USE] = {"port_in_use",
                       "Another program uses the port: pick another port in Settings."},
    [E_STOP_FAILED] = {"stop_failed", NULL},
    [E_REMOVE_FAILED] = {"remove_failed", NULL},
    [E_WAIT_FAILED] = {"wait_failed", NULL},
    [E_LOGS_FAILED] = {"logs_failed", NULL},
    [E_VOLUME_IN_USE] = {"volume_in_use", NULL},
    [E_GATEWAY_EXITED] = {"gateway_exited",
                          "Check the access grant (Logs show the gateway's reason)."},
    [E_GATEWAY_PORT] = {"gateway_port", NULL},
    [E_CONTAINER_EXITED] =
        {"container_exited",
         "Logs show why it stopped; check the storage settings and press Start again."},
    [E_CONTAINER_REMOVED] = {"container_removed",
                             "Press Start to create it again; stored images are kept."},
    [E_GATEWAY_STOPPED] = {"gateway_stopped", "Press Restart; Logs show why it stopped."},
    [E_STORAGE_UNREACHABLE] = {"storage_unreachable",
                               "Check that the storage is up and reachable; the registry recovers "
                               "by itself when it is back (Logs show its errors)."},
    [E_REGISTRY_UNHEALTHY] = {"registry_unhealthy",
                              "Logs show what it is doing; Restart may help."},
    [E_HEALTH_TIMEOUT] = {"health_timeout",
                          "Logs show what the registry is doing; check the storage settings."},
    [E_STORAGE_CHECK_FAILED] = {"storage_check_failed", NULL},
    [E_REGISTRY_NOT_RUNNING] = {"registry_not_running", NULL},
    [E_REGISTRY_UNREACHABLE] = {"registry_unreachable", NULL},
    [E_REGISTRY_ERROR] = {"registry_error", NULL},
    [E_DELETE_DISABLED] = {"delete_disabled", NULL},
    [E_GC_FAILED] = {"gc_failed", NULL},
    [E_GC_TIMEOUT] = {"gc_timeout", NULL},
    [E_STATE_CORRUPT] = {"state_corrupt", NULL},
    [E_STATE_UNREADABLE] = {"state_unreadable", NULL},
    [E_STATE_UNUSABLE] = {"state_unusable", NULL},
    [E_STATE_UNWRITABLE] = {"state_unwritable", NULL},
    [E_NO_MEMORY] = {"no_memory", NULL},
    [E_THREAD] = {"thread", NULL},
    [E_HTTP] = {"http", NULL},
    [E_DEADLINE] = {"deadline", NULL},
    [E_CANCELLED] = {"cancelled", NULL},
    [E_INTERNAL] = {"internal", NULL},
};

const char *ecode_name(enum ecode c)
{
    return c > E_NONE && c < E__COUNT ? table[c].name : NULL;
}

const char *ecode_hint(enum ecode c)
{
    return c > E_NONE && c < E__COUNT ? table[c].hint : NULL;
}
