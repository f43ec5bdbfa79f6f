/* registry.h: the services `wharf serve` runs now, changed at run time by
 * the admin API and by SIGHUP without dropping a request.
 *
 *   version    one build of a service: its config and module, compiled,
 *              linked and checked before it takes traffic. Requests hold a
 *              reference (wh_host_service_ref) and finish on the version
 *              they started on; the last reference frees it.
 *   snapshot   an immutable set of current versions plus the caller's
 *              view of them (the HTTP router). A change builds a new
 *              snapshot and swaps it in whole: a reader sees all of a
 *              change or none of it.
 *   history    per service name, the last WH_HOST_HISTORY deploys: what
 *              `rollback` goes back to.
 *
 * Changes are serialized (one writer at a time) and either happen
 * completely or change nothing: a deploy is parsed, checked against the
 * server's limits and the other services' routes, compiled, stored in the
 * state directory (state.h) and only then swapped in. Readers take no
 * lock but a short one in wh_host_registry_acquire. */
#ifndef WH_HOST_REGISTRY_H
#define WH_HOST_REGISTRY_H

#include "service.h"

#define WH_HOST_HISTORY 10             /* deploys kept per service name */
#define WH_HOST_MAX_BODY_FLOOR (64ull << 20)  /* see wh_host_registry_max_body */

typedef struct wh_host_registry wh_host_registry;
typedef struct wh_host_snapshot wh_host_snapshot;

/* The caller's data per snapshot: made when a snapshot is built (NULL
 * means out of memory, and the change fails), freed with it, from any
 * thread. The ops are copied and must stay valid while the registry is. */
typedef struct wh_host_view_ops {
    void *(*make)(void *ctx, wh_host_snapshot *s);
    void (*free)(void *ctx, void *view);
    void *ctx;
} wh_host_view_ops;

/* An empty registry with its own app (engine). With `state_dir` (created
 * if missing), API deploys are stored there; NULL keeps nothing. NULL on
 * failure with one line in err. */
wh_host_registry *wh_host_registry_new(const char *state_dir, char *err, size_t errlen);
/* After every user of its snapshots and services (loops, workers) is gone. */
void wh_host_registry_free(wh_host_registry *r);
wh_host_app *wh_host_registry_app(wh_host_registry *r);

/* Start-up: deploys every service stored in the state directory. A service
 * that cannot be rebuilt is logged and skipped. */
void wh_host_registry_load_state(wh_host_registry *r);

typedef enum wh_host_apply_result {
    WH_HOST_APPLY_OK,
    WH_HOST_APPLY_BAD_CONFIG,   /* the file cannot be read or parsed */
    WH_HOST_APPLY_BAD_SERVICE,  /* a module, an export, a limit, a route */
} wh_host_apply_result;

/* Makes the services of the wharf.yaml at `path` current, as one change:
 * each gets a new version from the file; services an earlier file had
 * and this one lacks are removed; services deployed through the API keep
 * running unless the file names them (the file wins for its names). On
 * failure nothing changes and err holds one line, "FILE:LINE: ...". */
wh_host_apply_result wh_host_registry_apply_file(wh_host_registry *r, const char *path,
                                                 char *err, size_t errlen);

/* The server's limits are settled once its workers exist: until then
 * services raise them (the WAGI stdout pipe for limits.max_response, the
 * request buffer for limits.max_body); afterwards a service past them is
 * refused. max_body is at least WH_HOST_MAX_BODY_FLOOR. */
void wh_host_registry_seal(wh_host_registry *r);
uint64_t wh_host_registry_max_body(const wh_host_registry *r);
/* Installs the view maker; builds the current snapshot's view. False on
 * out of memory. Call once, before the first acquire. */
bool wh_host_registry_set_view(wh_host_registry *r, const wh_host_view_ops *ops);

/* ---- Changes (the admin API) ------------------------------------------------ */

/* The result of a change, shaped for an HTTP answer. */
typedef struct wh_host_outcome {
    int status;          /* 200 updated, 201 created, 400 refused (bad module,
                            config, limit or route), 404 no such service,
                            409 no earlier version, 500 the server failed */
    uint64_t version;    /* the current version after a success */
    char message[700];   /* one line saying why, when status >= 400 */
} wh_host_outcome;

typedef struct wh_host_deploy {
    const char *name;
    const uint8_t *wasm;       /* the module's bytes (borrowed), or NULL when */
    size_t wasm_len;           /* the config's `module` names a server file */
    const char *module_name;   /* for messages and listings; NULL = "module.wasm" */
    const char *config;        /* the service's wharf.yaml keys, as a JSON object */
} wh_host_deploy;

void wh_host_registry_deploy(wh_host_registry *r, const wh_host_deploy *d,
                             wh_host_outcome *out);
void wh_host_registry_undeploy(wh_host_registry *r, const char *name, wh_host_outcome *out);
/* Makes the version before the current one current again, as a new
 * version number (so rolling back twice returns to where one started). */
void wh_host_registry_rollback(wh_host_registry *r, const char *name, wh_host_outcome *out);

/* ---- Reading ------------------------------------------------------------------ */

/* Changes with every swap; a cheap way to see that a snapshot is stale. */
uint64_t wh_host_registry_generation(const wh_host_registry *r);
/* The current snapshot, with a reference. Any thread. */
wh_host_snapshot *wh_host_registry_acquire(wh_host_registry *r);
void wh_host_snapshot_release(wh_host_snapshot *s);
int wh_host_snapshot_count(const wh_host_snapshot *s);
/* Sorted by name. Valid while the snapshot is held. */
wh_host_service *wh_host_snapshot_service(const wh_host_snapshot *s, int i);
void *wh_host_snapshot_view(const wh_host_snapshot *s);

typedef struct wh_host_version_info {
    const char *name;          /* lives as long as the registry */
    uint64_t version;
    char sha256[65];           /* of the module; "" for a pipeline */
    uint64_t module_bytes;
    char module_name[256];
    const char *origin;        /* "api" or "config" */
    int64_t deployed_at;       /* unix time, seconds */
} wh_host_version_info;

/* What version `s` is. For a service outside a registry, version 0. */
void wh_host_service_info(const wh_host_service *s, wh_host_version_info *out);
/* The history of `name`, newest (the current) first, into out[0..max).
 * Returns how many, or -1 when no such service is deployed. */
int wh_host_registry_history(wh_host_registry *r, const char *name,
                             wh_host_version_info *out, int max);

typedef struct wh_host_registry_stats {
    uint64_t cache_hits, cache_misses;  /* module compiles saved and done */
    uint64_t changes, refused;          /* changes made; refused (4xx, 5xx) */
    int64_t versions;                   /* built and not yet freed */
} wh_host_registry_stats;

void wh_host_registry_stats_get(const wh_host_registry *r, wh_host_registry_stats *out);

#endif /* WH_HOST_REGISTRY_H */
