/* config.h: the model of a `wharf serve` configuration (wharf.yaml) and its
 * loader. docs/config.md documents every key; this header is the in-memory
 * form the loader produces and the services and the HTTP layer read.
 *
 * A wh_host_config is immutable once loaded and may be read from any
 * thread. Every string and array in it lives in its arena and dies with
 * wh_host_config_free. Relative paths (modules, directories, TLS files)
 * are resolved against the directory of the YAML file at load time. */
#ifndef WH_HOST_CONFIG_H
#define WH_HOST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/base.h"

typedef enum wh_host_executor {
    WH_HOST_EXEC_WAGI,       /* a WASI command: CGI over env/stdin/stdout */
    WH_HOST_EXEC_FUNCTION,   /* an exported function: bytes in, bytes out */
    WH_HOST_EXEC_PIPELINE,   /* function stages in a row (pipeline.c) */
} wh_host_executor;

/* How a pipeline stage takes its input (docs/config.md, "Pipelines"). */
typedef enum wh_host_stream {
    WH_HOST_STREAM_NONE,     /* one call with the whole input */
    WH_HOST_STREAM_BYTES,    /* one call per `chunk` bytes */
    WH_HOST_STREAM_LINES,    /* one call per run of whole lines <= `chunk` */
} wh_host_stream;

typedef struct wh_host_stage_conf wh_host_stage_conf;

/* A NAME -> VALUE pair (environment, config variables, directories). */
typedef struct wh_host_kv { const char *key, *value; } wh_host_kv;

/* One route. "/a/b" matches only that path; "/a/..." matches "/a" and
 * everything below it; "/..." matches every path. */
typedef struct wh_host_route {
    const char *text;        /* as written: X_MATCHED_ROUTE */
    const char *prefix;      /* text without "/...": SCRIPT_NAME */
    size_t prefix_len;
    bool wildcard;
    int line;                /* 1-based line in the YAML file */
} wh_host_route;

typedef struct wh_host_limits {
    uint64_t max_memory;       /* bytes of linear memory per instance */
    uint64_t fuel;             /* per request; 0 = unlimited */
    uint64_t timeout_ns;       /* wall clock per request; 0 = none */
    uint32_t max_concurrent;   /* instances running at once; 0 = no limit */
    uint32_t queue;            /* requests waiting for a slot at most */
    uint64_t queue_timeout_ns; /* how long one may wait before a 503 */
    uint64_t max_body;         /* request body bytes; more is a 413 */
    uint64_t max_response;     /* response bytes a guest may write */
} wh_host_limits;

typedef struct wh_host_service_conf {
    const char *name;
    const char *module;          /* resolved path of the .wasm file */
    int module_line;
    wh_host_executor executor;
    const char *function;        /* function executor: the export to call */
    wh_host_route *routes;  int nroutes;
    wh_host_kv *env;        int nenv;     /* environment variables */
    wh_host_kv *vars;       int nvars;    /* config variables */
    wh_host_kv *dirs;       int ndirs;    /* guest path -> host directory */
    wh_host_limits limits;
    uint32_t reuse;              /* requests per instance; 0 = fresh each */
    int line;                    /* where the service is defined */
    wh_host_stage_conf *stages;  /* pipeline: its stages, in order */
    int nstages;
    const char *content_type;    /* pipeline: of its responses */
} wh_host_service_conf;

/* One pipeline stage: a function service without routes, named
 * "SERVICE/STAGE" (in the log), plus how it takes its input. Its limits
 * are per call; limits.max_response caps its whole output. */
struct wh_host_stage_conf {
    wh_host_service_conf fn;     /* first: service keys write through it */
    const char *stage;           /* the stage's own name */
    wh_host_stream stream;
    uint64_t chunk;              /* input bytes per call when streaming */
    uint32_t error_status;       /* the HTTP status of a plugin error */
    int line;                    /* where the stage is defined */
};

typedef struct wh_host_server_conf {
    const char *listen;          /* "ADDR:PORT", NULL = the default */
    int workers;                 /* event loops; 0 = one per core */
    const char *tls_cert, *tls_key;
    uint64_t request_timeout_ns; /* slow clients: reading one request */
    uint64_t idle_timeout_ns;    /* idle keep-alive and HTTP/2 connections */
    uint64_t max_header_bytes;   /* request headers; more is a 431 */
    const char *health;          /* path answered "ok" with no wasm, or NULL */
} wh_host_server_conf;

typedef struct wh_host_config {
    wh_arena arena;
    const char *path;            /* the file, as given */
    wh_host_server_conf server;
    wh_host_service_conf *services;
    int nservices;
} wh_host_config;

/* Defaults that docs/config.md promises. */
#define WH_HOST_DEFAULT_LISTEN "127.0.0.1:8080"
#define WH_HOST_DEFAULT_MAX_MEMORY (128ull << 20)
#define WH_HOST_DEFAULT_TIMEOUT_NS (5ull * 1000000000)
#define WH_HOST_DEFAULT_QUEUE 64u
#define WH_HOST_DEFAULT_QUEUE_TIMEOUT_NS (5ull * 1000000000)
#define WH_HOST_DEFAULT_MAX_BODY (1ull << 20)
#define WH_HOST_DEFAULT_MAX_RESPONSE (1ull << 20)
#define WH_HOST_DEFAULT_FUNCTION "handle"
#define WH_HOST_DEFAULT_REQUEST_TIMEOUT_NS (10ull * 1000000000)
#define WH_HOST_DEFAULT_IDLE_TIMEOUT_NS (10ull * 1000000000)
#define WH_HOST_DEFAULT_MAX_HEADER_BYTES (16ull << 10)
#define WH_HOST_DEFAULT_CHUNK (64ull << 10)
#define WH_HOST_DEFAULT_ERROR_STATUS 422u
#define WH_HOST_DEFAULT_CONTENT_TYPE "application/octet-stream"

/* Loads and checks `path`. On failure returns NULL and writes one line,
 * "FILE:LINE: problem" (no trailing newline), into err[0..errlen). Checks
 * everything that can be checked without reading modules: keys, types,
 * values, route syntax and clashes, executor-specific keys. */
wh_host_config *wh_host_config_load(const char *path, char *err, size_t errlen);
/* Parses YAML text; `path` names it in messages and anchors relative
 * paths (its directory). Same contract as wh_host_config_load. */
wh_host_config *wh_host_config_parse(const char *path, const char *text,
                                     size_t len, char *err, size_t errlen);
void wh_host_config_free(wh_host_config *c);

/* The text forms config values use, shared with the CLI flags of `serve`.
 * Each accepts the whole string or fails. */
bool wh_host_parse_size(const char *s, uint64_t *bytes);     /* 64KiB, 1MB */
bool wh_host_parse_duration(const char *s, uint64_t *ns);    /* 500ms, 2s */
bool wh_host_parse_u64(const char *s, uint64_t *out);
/* "ADDR:PORT" or "[V6ADDR]:PORT" into host (NUL-terminated) and port;
 * port 0 asks the kernel for a free one. */
bool wh_host_parse_listen(const char *s, char *host, size_t hostlen,
                          uint16_t *port);

#endif /* WH_HOST_CONFIG_H */
