/* registryInt.h: what the files behind registry.h share.
 *
 *   registry.c       versions, snapshots and their swap, the compile
 *                    cache, deploy / undeploy / rollback, SIGHUP's reload
 *   registry_json.c  the JSON side: an API deploy's config into a
 *                    wh_host_config, and the records of the state directory
 *
 * Lifetimes: a blob (module bytes) and a cfgref (a parsed config) are
 * shared, refcounted, by the history entries and the versions made from
 * them; an entry (a service name) lives as long as the registry, so its
 * counters and slot index survive undeploys and redeploys. */
#ifndef WH_HOST_REGISTRY_INT_H
#define WH_HOST_REGISTRY_INT_H

#include <pthread.h>

#include "registry.h"
#include "serviceInt.h"
#include "state.h"

/* A module's bytes and hash. */
typedef struct wh_host_blob {
    int refs;
    char sha256[65];
    uint8_t *bytes;
    size_t len;
} wh_host_blob;

/* A parsed config: a wharf.yaml, or one API deploy's (one service). */
typedef struct wh_host_cfgref {
    int refs;
    wh_host_config *cfg;
} wh_host_cfgref;

/* What a version is made from: one history entry. */
typedef struct wh_host_spec {
    uint64_t version;
    wh_host_blob *module;        /* NULL for a pipeline (stages by path) */
    wh_host_cfgref *cfg;
    int conf;                    /* the service's index in cfg */
    char *module_name;
    char *config_json;           /* API: the config as stored, without
                                    "module"; NULL when from the file */
    int64_t deployed_at;
} wh_host_spec;

/* One service name. */
typedef struct wh_host_entry {
    char *name;
    int index;                   /* slot in workers' tables */
    wh_host_stats stats;
    wh_host_spec history[WH_HOST_HISTORY];   /* oldest first */
    int nhistory;
    bool deployed;               /* then history[nhistory - 1] is current */
    uint64_t last_version;
} wh_host_entry;

/* A compiled module shared by the versions whose bytes hash the same. */
typedef struct wh_host_cached {
    struct wh_host_cached *next;
    char sha256[65];
    wharf_module *module;
    int refs;
} wh_host_cached;

/* The registry's side of a built version (its service's `owner`). */
typedef struct wh_host_version {
    wh_host_registry *reg;
    const char *name;            /* the entry's */
    wh_host_spec spec;           /* holds its own references */
    wh_host_cached *cached;
    bool published;              /* has been current */
} wh_host_version;

struct wh_host_snapshot {
    int refs;
    wh_host_registry *reg;
    wh_host_service **services;  /* sorted by name, one reference each */
    int n;
    void *view;
};

struct wh_host_registry {
    wh_host_app *app;
    wh_host_state *state;        /* NULL: nothing persisted */
    wh_host_view_ops view;
    pthread_mutex_t lock;        /* one change at a time; entries, history */
    pthread_mutex_t current_lock;   /* `current` against acquire */
    wh_host_snapshot *current;
    uint64_t generation;
    wh_host_entry **entries;
    int nentries;
    pthread_mutex_t cache_lock;
    wh_host_cached *cache;
    bool sealed;
    uint64_t max_body;
    wh_host_registry_stats stats;   /* atomics */
};

/* registry_json.c */

/* Splits an API deploy's config (a JSON object of wharf.yaml's service
 * keys): a "module" naming a server file goes to *module_path (malloc'd,
 * or NULL when absent); the rest is returned as compact JSON (malloc'd).
 * NULL with one line in `why` when the text is not a JSON object. */
char *wh_host_reg_split_config(const char *json, char **module_path,
                               char *why, size_t len);
/* Parses a config as split above for service `name`, with `module_name`
 * (NULL for a pipeline) standing in for its module. NULL with one line
 * in `why`: config.c's message without its "FILE:LINE: " prefix. */
wh_host_config *wh_host_reg_config(const char *name, const char *json,
                                   const char *module_name, char *why, size_t len);
/* The state directory's record of a history: its API entries only
 * (malloc'd JSON), or NULL when it has none. */
char *wh_host_reg_record(const char *name, const wh_host_spec *hist, int n);

/* One entry of a stored record, as wh_host_reg_each_spec hands it over;
 * the strings are borrowed for the call. */
typedef struct wh_host_stored_spec {
    uint64_t version;
    const char *sha256;          /* NULL: no module (a pipeline) */
    const char *module_name;
    const char *config_json;
    int64_t deployed_at;
} wh_host_stored_spec;

/* Calls fn for each entry of the record `text`, oldest first. False with
 * one line in `why` when the record is malformed. */
bool wh_host_reg_each_spec(const char *text,
                           bool (*fn)(void *ctx, const wh_host_stored_spec *s),
                           void *ctx, char *why, size_t len);

#endif /* WH_HOST_REGISTRY_INT_H */
