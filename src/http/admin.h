/* admin.h: what admin.c and admin_json.c share (the admin API of
 * docs/admin-api.md). */
#ifndef WH_HTTP_ADMIN_H
#define WH_HTTP_ADMIN_H

#include <cjson/cJSON.h>

#include "httpInt.h"

/* The body of PUT /v1/services/NAME, decoded. */
typedef struct wh_http_admin_body {
    uint8_t *wasm;               /* the module's bytes (from base64), or NULL */
    size_t wasm_len;
    bool has_module;             /* "module" was given */
    char *module_name;           /* "module_name", or NULL */
    char *config;                /* "config", as compact JSON */
} wh_http_admin_body;

/* Parses `text` (a JSON object {"module", "module_name", "config"}); false
 * with one line in `why`, and nothing to free. */
bool wh_http_admin_body_parse(const char *text, size_t len, wh_http_admin_body *b,
                              char *why, size_t whylen);
void wh_http_admin_body_free(wh_http_admin_body *b);

/* Service `s` as JSON: version, module, routes, limits, counters, and with
 * `detail` its history. The caller frees it (cJSON_Delete). */
cJSON *wh_http_admin_service_json(wh_host_registry *r, const wh_host_service *s, bool detail);

#endif /* WH_HTTP_ADMIN_H */
