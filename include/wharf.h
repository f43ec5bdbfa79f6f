/* wharf.h: the public embedding API of wharf, a WebAssembly runtime.
 *
 * This header is the manual. Every call states who owns what and which
 * threads may make it.
 *
 * Objects and lifetimes
 *   wharf_engine    configuration, allocator hook, defaults for limits.
 *                   Immutable after creation; shareable across threads.
 *                   Must outlive every object created from it.
 *   wharf_module    decoded, validated and compiled code. Immutable,
 *                   shareable across threads. Must outlive its instances.
 *   wharf_linker    a name table (module name, field name) -> extern, used
 *                   to resolve imports. Not thread-safe while being changed;
 *                   read-only use (instantiation) from many threads is safe.
 *   wharf_instance_pre
 *                   a module with its imports resolved against a linker,
 *                   for cheap repeated instantiation. Immutable,
 *                   shareable across threads.
 *   wharf_instance  a module's runtime state: memories, tables, globals.
 *                   Belongs to one thread at a time (only
 *                   wharf_instance_interrupt may be called from others).
 *                   An instance whose exports another instance imports, or
 *                   that a linker holds, must outlive those users.
 *   wharf_memory, wharf_table, wharf_global
 *                   host-created externs (for imports); owned by the caller
 *                   and freed after every instance that imported them.
 *
 * Ownership: pointers passed in are borrowed for the duration of the call.
 * WHARF_OWN marks a pointer whose ownership moves to the receiver. Whether a
 * call succeeds never changes who owns what.
 *
 * Errors: every fallible call returns wharf_status (WHARF_OK is 0) and, when
 * `err` is not NULL, fills the caller-owned wharf_error. Nothing is
 * allocated on the error path.
 *
 * Names (module, field, export names) are NUL-terminated C strings here;
 * byte buffers are always pointer + length.
 */
#ifndef WHARF_H
#define WHARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WHARF_OWN /* ownership moves to the receiver */

typedef struct wharf_engine wharf_engine;
typedef struct wharf_module wharf_module;
typedef struct wharf_linker wharf_linker;
typedef struct wharf_instance wharf_instance;
typedef struct wharf_memory wharf_memory;
typedef struct wharf_table wharf_table;
typedef struct wharf_global wharf_global;
typedef struct wharf_func wharf_func;
typedef struct wharf_caller wharf_caller;

/* ---- Status and errors ------------------------------------------------ */

typedef enum wharf_status {
    WHARF_OK = 0,
    WHARF_ERR_MALFORMED,     /* bytes are not a well-formed binary module */
    WHARF_ERR_INVALID,       /* module fails validation */
    WHARF_ERR_UNLINKABLE,    /* an import is missing or has the wrong type */
    WHARF_ERR_TRAP,          /* execution trapped; see wharf_error.trap */
    WHARF_ERR_EXIT,          /* the guest asked to exit; see exit_code */
    WHARF_ERR_NOMEM,         /* the host ran out of memory */
    WHARF_ERR_ARG,           /* a bad argument from the embedder */
    WHARF_ERR_NOT_FOUND,     /* no export of that name or kind */
    WHARF_ERR_PLUGIN,        /* a plugin function reported failure */
} wharf_status;

typedef enum wharf_trap {
    WHARF_TRAP_NONE = 0,
    WHARF_TRAP_UNREACHABLE,
    WHARF_TRAP_MEMORY_OOB,         /* out of bounds memory access */
    WHARF_TRAP_TABLE_OOB,          /* out of bounds table access */
    WHARF_TRAP_DIV_ZERO,           /* integer divide by zero */
    WHARF_TRAP_INT_OVERFLOW,       /* integer overflow */
    WHARF_TRAP_BAD_CONVERSION,     /* invalid conversion to integer */
    WHARF_TRAP_INDIRECT_MISMATCH,  /* indirect call type mismatch */
    WHARF_TRAP_UNINIT_ELEMENT,     /* uninitialized (null) table element */
    WHARF_TRAP_NULL_REF,           /* null reference */
    WHARF_TRAP_STACK_EXHAUSTED,    /* call stack exhausted */
    WHARF_TRAP_FUEL,               /* fuel exhausted */
    WHARF_TRAP_INTERRUPT,          /* interrupted from another thread */
    WHARF_TRAP_DEADLINE,           /* deadline passed */
    WHARF_TRAP_HOST,               /* a host function reported an error */
} wharf_trap;

#define WHARF_NO_OFFSET UINT64_MAX
#define WHARF_NO_FUNC UINT32_MAX

typedef struct wharf_error {
    wharf_status status;
    wharf_trap trap;       /* WHARF_TRAP_NONE unless status is TRAP */
    uint64_t offset;       /* byte offset in the module, or WHARF_NO_OFFSET */
    uint32_t func_index;   /* function that trapped, or WHARF_NO_FUNC */
    int exit_code;         /* with WHARF_ERR_EXIT */
    char message[256];     /* one line, NUL-terminated, no trailing newline */
} wharf_error;

/* The short fixed name of a status or trap ("malformed", "fuel exhausted").
 * Thread-safe; the string is static. */
const char *wharf_status_name(wharf_status s);
const char *wharf_trap_name(wharf_trap t);

/* ---- Values ----------------------------------------------------------- */

typedef enum wharf_valkind {
    WHARF_I32 = 0x7f,
    WHARF_I64 = 0x7e,
    WHARF_F32 = 0x7d,
    WHARF_F64 = 0x7c,
    WHARF_V128 = 0x7b,
    WHARF_FUNCREF = 0x70,
    WHARF_EXTERNREF = 0x6f,
} wharf_valkind;

typedef struct wharf_val {
    wharf_valkind kind;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t v128[16];
        wharf_func *funcref;   /* NULL is ref.null func */
        void *externref;       /* NULL is ref.null extern */
    } of;
} wharf_val;

/* The raw value cell that host functions see: 8 bytes; a v128 takes two
 * consecutive cells (low half first); references are pointers. */
typedef uint64_t wharf_slot;

/* ---- Engine ----------------------------------------------------------- */

typedef struct wharf_config {
    /* Allocator hook (realloc semantics: size 0 frees). NULL = libc. */
    void *(*alloc)(void *user, void *ptr, size_t size);
    void *alloc_user;
    /* Default limits for new instances (0 = the built-in default). */
    uint32_t max_call_depth;     /* default 10000 wasm frames */
    uint64_t max_memory_bytes;   /* default 4 GiB: the 32-bit maximum */
    size_t stack_bytes;          /* value stack size, default 8 MiB */
    /* Linear memories kept for reuse when their instance is freed, at most
     * this many (0 = none: each memory is unmapped). A kept memory keeps
     * its address space reservation; it is reset to zeros before another
     * instance gets it. Trades a little resident memory for cheaper
     * instantiation. */
    uint32_t memory_pool;
} wharf_config;

/* Creates an engine. `cfg` may be NULL for defaults; it is copied.
 * Returns WHARF_ERR_NOMEM or WHARF_OK. */
wharf_status wharf_engine_new(const wharf_config *cfg,
                              WHARF_OWN wharf_engine **out);
void wharf_engine_free(WHARF_OWN wharf_engine *e);

/* ---- Module ----------------------------------------------------------- */

/* Decodes, validates and compiles `bytes` (copied; the caller keeps them).
 * Errors: MALFORMED or INVALID with the message and byte offset; NOMEM.
 * Thread-safe for a shared engine. */
wharf_status wharf_module_new(wharf_engine *e, const uint8_t *bytes, size_t len,
                              WHARF_OWN wharf_module **out, wharf_error *err);
void wharf_module_free(WHARF_OWN wharf_module *m);

typedef enum wharf_externkind {
    WHARF_EXTERN_FUNC = 0,
    WHARF_EXTERN_TABLE = 1,
    WHARF_EXTERN_MEMORY = 2,
    WHARF_EXTERN_GLOBAL = 3,
} wharf_externkind;

/* Describes one import or export of a module. Strings point into the
 * module and are NOT NUL-terminated; they live as long as the module. */
typedef struct wharf_extern_info {
    const char *module; size_t module_len;   /* imports only */
    const char *name; size_t name_len;
    wharf_externkind kind;
    uint32_t index;                          /* in its index space */
} wharf_extern_info;

uint32_t wharf_module_import_count(const wharf_module *m);
uint32_t wharf_module_export_count(const wharf_module *m);
void wharf_module_import(const wharf_module *m, uint32_t i, wharf_extern_info *out);
void wharf_module_export(const wharf_module *m, uint32_t i, wharf_extern_info *out);

/* The signature of function `funcidx` (imports first). `params`/`results`
 * point into the module; counts are written to *np and *nr. Returns false
 * when funcidx is out of range. */
bool wharf_module_func_type(const wharf_module *m, uint32_t funcidx,
                            const wharf_valkind **params, uint32_t *np,
                            const wharf_valkind **results, uint32_t *nr);

/* One section of the module's binary, in file order (for `wharf inspect`).
 * `offset` is the byte offset of the section's contents (just past its id
 * and size fields) and `size` their length in bytes. Custom sections
 * (id 0) carry their name, NOT NUL-terminated, pointing into the module;
 * other sections have name NULL, name_len 0. Thread-safe (read-only). */
typedef struct wharf_section_info {
    uint8_t id;                      /* 0 custom, 1 type, ... 12 datacount */
    uint64_t offset, size;
    const char *name; size_t name_len;
} wharf_section_info;

uint32_t wharf_module_section_count(const wharf_module *m);
/* Fills *out with section i; returns false when i is out of range. */
bool wharf_module_section(const wharf_module *m, uint32_t i,
                          wharf_section_info *out);

/* ---- Host functions --------------------------------------------------- */

/* A host function. `slots` holds the arguments on entry (one wharf_slot per
 * value, two for v128) and receives the results on return, from slot 0.
 * Return WHARF_OK, or the status of wharf_caller_trap / wharf_caller_exit.
 * Called on the thread that called into the instance. */
typedef wharf_status (*wharf_host_fn)(wharf_caller *caller, void *user,
                                      wharf_slot *slots);

/* The instance that called the host function (borrowed for the call). */
wharf_instance *wharf_caller_instance(wharf_caller *c);
/* That instance's user pointer (wharf_instance_set_user). With it a host
 * function defined once, in a linker shared by many instances, finds the
 * state of the instance calling it (its WASI state, say). */
void *wharf_caller_user(wharf_caller *c);
/* The caller's memory 0 (NULL and *len = 0 if it has none). The pointer is
 * valid until the guest runs again (memory.grow may move it). */
uint8_t *wharf_caller_memory(wharf_caller *c, size_t *len);
/* Records a trap with a message (printf-style); return its result. */
wharf_status wharf_caller_trap(wharf_caller *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Records an exit request (WASI proc_exit); return its result. */
wharf_status wharf_caller_exit(wharf_caller *c, int code);
/* The running call's deadline as a CLOCK_MONOTONIC time in nanoseconds, or
 * 0 when it has none. A host function that blocks (sleep, poll) waits no
 * longer than this and in slices short enough to notice an interrupt,
 * checking wharf_caller_check after each. */
uint64_t wharf_caller_deadline(wharf_caller *c);
/* Checks the deadline and the interrupt flag now. Returns WHARF_OK, or the
 * trap status (already recorded) for the host function to return. */
wharf_status wharf_caller_check(wharf_caller *c);

/* ---- Host-created externs --------------------------------------------- */

wharf_status wharf_memory_new(wharf_engine *e, uint32_t min_pages,
                              uint32_t max_pages, bool has_max,
                              WHARF_OWN wharf_memory **out);
void wharf_memory_free(WHARF_OWN wharf_memory *m);
/* Base pointer and size in bytes; valid until the memory grows. */
uint8_t *wharf_memory_data(wharf_memory *m, size_t *len);

wharf_status wharf_table_new(wharf_engine *e, wharf_valkind reftype,
                             uint32_t min, uint32_t max, bool has_max,
                             WHARF_OWN wharf_table **out);
void wharf_table_free(WHARF_OWN wharf_table *t);

wharf_status wharf_global_new(wharf_engine *e, wharf_val value, bool mutable_,
                              WHARF_OWN wharf_global **out);
void wharf_global_free(WHARF_OWN wharf_global *g);
wharf_val wharf_global_get(const wharf_global *g);

/* ---- Linker ----------------------------------------------------------- */

wharf_status wharf_linker_new(wharf_engine *e, WHARF_OWN wharf_linker **out);
void wharf_linker_free(WHARF_OWN wharf_linker *l);

/* Each define copies the names; a later definition of the same
 * (module, name) replaces the earlier one. Errors: NOMEM, ARG. */
wharf_status wharf_linker_define_func(wharf_linker *l, const char *module,
                                      const char *name,
                                      const wharf_valkind *params, uint32_t np,
                                      const wharf_valkind *results, uint32_t nr,
                                      wharf_host_fn fn, void *user);
wharf_status wharf_linker_define_memory(wharf_linker *l, const char *module,
                                        const char *name, wharf_memory *m);
wharf_status wharf_linker_define_table(wharf_linker *l, const char *module,
                                       const char *name, wharf_table *t);
wharf_status wharf_linker_define_global(wharf_linker *l, const char *module,
                                        const char *name, wharf_global *g);
/* Makes every export of `inst` importable under `module` (spec `register`). */
wharf_status wharf_linker_define_instance(wharf_linker *l, const char *module,
                                          wharf_instance *inst);
/* `size` zeroed bytes that live as long as the linker, e.g. the `user`
 * data of the host functions defined into it. NULL when out of memory. */
void *wharf_linker_alloc(wharf_linker *l, size_t size);

/* ---- Instance --------------------------------------------------------- */

typedef struct wharf_limits {
    uint64_t max_memory_bytes;  /* memory.grow returns -1 past it; 0 = engine default */
    uint32_t max_call_depth;    /* 0 = engine default */
    uint64_t fuel;              /* 0 = unlimited */
    uint64_t timeout_ns;        /* wall-clock budget per call; 0 = none */
} wharf_limits;

/* Resolves imports through `l` (may be NULL for a module without imports),
 * allocates memories, tables and globals, applies segments and runs the
 * start function. `limits` may be NULL for the engine defaults.
 * Errors: UNLINKABLE (message names the import), TRAP (a segment out of
 * bounds or a trapping start function; writes already made to imported
 * memories and tables stay), NOMEM. On error *out is NULL. When such a
 * failure may have left the module's functions in imported tables, the
 * half-built instance is kept (freed with the engine), so those functions
 * stay callable; the module must then outlive those tables. */
wharf_status wharf_instance_new(wharf_module *m, const wharf_linker *l,
                                const wharf_limits *limits,
                                WHARF_OWN wharf_instance **out, wharf_error *err);
void wharf_instance_free(WHARF_OWN wharf_instance *inst);

/* An embedder's pointer for the instance (NULL until set), read back by
 * host functions through wharf_caller_user. Not owned. */
void wharf_instance_set_user(wharf_instance *inst, void *user);
void *wharf_instance_user(const wharf_instance *inst);

/* ---- Pre-linked instantiation ------------------------------------------ */

/* A module whose imports are already resolved against a linker, for
 * making many instances of it (one per request, say) without looking up
 * any name. Also the first instantiation through it builds the module's
 * initial memory image: a module whose data segments all have constant
 * offsets gets its memory 0 filled in one step (copied, or for a large
 * image mapped copy-on-write), not segment by segment.
 *
 * Immutable once made, so shareable across threads. It borrows the module
 * and the linker's externs (host functions live in the linker): both must
 * outlive it, and the linker must not be changed while it lives. */
typedef struct wharf_instance_pre wharf_instance_pre;

/* Resolves every import of `m` through `l` (NULL for a module without
 * imports). Errors: UNLINKABLE (the message names the import), NOMEM.
 * Thread-safe for a shared module and linker. */
wharf_status wharf_instance_pre_new(wharf_module *m, const wharf_linker *l,
                                    WHARF_OWN wharf_instance_pre **out,
                                    wharf_error *err);
/* Instances made from `pre` do not depend on it: it may go first. */
void wharf_instance_pre_free(WHARF_OWN wharf_instance_pre *pre);

/* wharf_instance_new through the resolved imports, with `user` set on the
 * instance before its start function runs. Same errors, minus the name
 * lookups; thread-safe (many threads may instantiate one pre at once). */
wharf_status wharf_instance_pre_instantiate(wharf_instance_pre *pre,
                                            const wharf_limits *limits,
                                            void *user,
                                            WHARF_OWN wharf_instance **out,
                                            wharf_error *err);

/* Finds an export by name. Returns NOT_FOUND if absent or of another kind. */
wharf_status wharf_instance_func(wharf_instance *inst, const char *name,
                                 wharf_func **out);
wharf_status wharf_instance_global(wharf_instance *inst, const char *name,
                                   wharf_global **out);
wharf_status wharf_instance_memory_export(wharf_instance *inst, const char *name,
                                          wharf_memory **out);
wharf_status wharf_instance_table_export(wharf_instance *inst, const char *name,
                                         wharf_table **out);
/* wharf_instance_func with a name of `len` bytes: wasm names may hold NUL
 * bytes, which a C string cannot. */
wharf_status wharf_instance_func_n(wharf_instance *inst, const char *name,
                                   size_t len, wharf_func **out);

/* Memory 0 of the instance (NULL, *len = 0 if none). Valid until it grows. */
uint8_t *wharf_instance_memory(wharf_instance *inst, size_t *len);

/* The signature of a function handle (borrowed from its module or host). */
void wharf_func_type(const wharf_func *f, const wharf_valkind **params,
                     uint32_t *np, const wharf_valkind **results, uint32_t *nr);

/* Calls `f` (an export of `inst`, or any function reachable from it) with
 * typed arguments. Kinds are checked against the signature (ARG on a
 * mismatch). Results are written to `results` (room for nr values).
 * Errors: TRAP with trap kind, message (naming the function where the name
 * section has it) and code offset; EXIT; ARG. Fuel left over is kept on
 * the instance for the next call. Not reentrant from other threads. */
wharf_status wharf_call(wharf_instance *inst, wharf_func *f,
                        const wharf_val *args, uint32_t nargs,
                        wharf_val *results, uint32_t nresults,
                        wharf_error *err);

/* Limits, changeable between calls. */
void wharf_instance_set_fuel(wharf_instance *inst, uint64_t fuel); /* 0 = unlimited */
uint64_t wharf_instance_fuel(const wharf_instance *inst);          /* fuel left */
void wharf_instance_set_timeout(wharf_instance *inst, uint64_t ns); /* 0 = none */

/* Makes the running (or next) call trap with WHARF_TRAP_INTERRUPT at its
 * next loop header or call. The only instance call that is safe from any
 * thread; async-signal-safe. */
void wharf_instance_interrupt(wharf_instance *inst);

/* ---- Plugins ---------------------------------------------------------- */

/* A plugin is a module that follows Extism's plugin ABI (docs/abi.md):
 * its exports are `() -> i32` functions (0 = success) that read an input
 * buffer and write an output buffer through the imports of module
 * "extism:host/env". Plugins built with Extism's PDKs run unchanged.
 *
 *   wharf_compiled_plugin  the compiled module plus a copy of its manifest.
 *                          Immutable; shareable across threads. Must
 *                          outlive its plugins; its engine outlives it.
 *   wharf_plugin           one instance of it, with its call memory and
 *                          variables. Belongs to one thread at a time and
 *                          is reused across calls; a thread that calls in
 *                          parallel makes its own plugin from the shared
 *                          compiled plugin (or takes one from a pool).
 *
 * Only wharf_plugin_cancel may be called from another thread. */

typedef struct wharf_compiled_plugin wharf_compiled_plugin;
typedef struct wharf_plugin wharf_plugin;
typedef struct wharf_plugin_cancel wharf_plugin_cancel;

/* Log levels, numbered as Extism's get_log_level returns them. */
typedef enum wharf_log_level {
    WHARF_LOG_TRACE = 0,
    WHARF_LOG_DEBUG = 1,
    WHARF_LOG_INFO = 2,
    WHARF_LOG_WARN = 3,
    WHARF_LOG_ERROR = 4,
    WHARF_LOG_OFF = 5,
} wharf_log_level;

/* Receives a plugin's log lines (not NUL-terminated). Called on the thread
 * that made the plugin call; must be thread-safe when plugins of the same
 * compiled plugin run on several threads. */
typedef void (*wharf_plugin_log_fn)(void *user, wharf_log_level level,
                                    const char *msg, size_t len);

/* A host function that a plugin imports. `slots` works as for
 * wharf_host_fn; `p` is the calling plugin, whose call memory the function
 * reaches with wharf_plugin_memory*. Return WHARF_OK or the result of
 * wharf_plugin_host_error. Runs on the calling thread; `user` is shared by
 * every plugin of the compiled plugin, so it must be thread-safe if those
 * plugins run on several threads. */
typedef wharf_status (*wharf_plugin_fn)(wharf_plugin *p, void *user,
                                        wharf_slot *slots);

typedef struct wharf_plugin_func {
    const char *module;        /* NULL = "extism:host/user" */
    const char *name;
    const wharf_valkind *params; uint32_t nparams;
    const wharf_valkind *results; uint32_t nresults;
    wharf_plugin_fn fn;
    void *user;
} wharf_plugin_func;

typedef struct wharf_plugin_kv { const char *key, *value; } wharf_plugin_kv;

/* A host directory the plugin sees (through WASI) under guest_path. */
typedef struct wharf_plugin_path {
    const char *host_path;
    const char *guest_path;    /* NULL = host_path */
} wharf_plugin_path;

/* What a plugin is and may do. Everything is copied by
 * wharf_compiled_plugin_new; zeros mean "the default". */
typedef struct wharf_manifest {
    const uint8_t *wasm;       /* the module's bytes (wasm_len of them), */
    size_t wasm_len;
    const char *wasm_path;     /* or, when wasm is NULL, a file to read */
    uint32_t max_pages;        /* linear memory limit in 64 KiB pages; also
                                  caps the call memory. 0 = 65536 */
    uint64_t timeout_ns;       /* wall-clock budget per call; 0 = none */
    uint64_t fuel;             /* fuel per call; 0 = unlimited */
    bool wasi;                 /* link WASI preview1 (stdio: stderr only) */
    const char *const *allowed_hosts;  /* glob patterns ("*.example.com")
                                          for http_request; none = no HTTP */
    size_t nallowed_hosts;
    const wharf_plugin_path *allowed_paths;  /* WASI preopens (needs wasi) */
    size_t nallowed_paths;
    const wharf_plugin_kv *config;     /* read by config_get */
    size_t nconfig;
    const wharf_plugin_func *funcs;    /* host functions the plugin imports */
    size_t nfuncs;
    uint64_t max_var_bytes;            /* all variables together; 0 = 1 MiB */
    uint64_t max_http_response_bytes;  /* 0 = 50 MiB */
    wharf_plugin_log_fn log;           /* NULL = discard logs */
    void *log_user;
    wharf_log_level log_level;         /* lines below it are dropped */
} wharf_manifest;

/* Reads (wasm_path), decodes, validates and compiles the module and copies
 * the manifest. Errors: MALFORMED, INVALID, ARG (no wasm, unreadable file,
 * bad function), NOMEM. Thread-safe for a shared engine. */
wharf_status wharf_compiled_plugin_new(wharf_engine *e, const wharf_manifest *m,
                                       WHARF_OWN wharf_compiled_plugin **out,
                                       wharf_error *err);
void wharf_compiled_plugin_free(WHARF_OWN wharf_compiled_plugin *c);

/* Instantiates `c` for one thread: links "extism:host/env", the host
 * functions and (if enabled) WASI, then runs the module's `_initialize`
 * (WASI reactors) or else its `__wasm_call_ctors`, once. Errors:
 * UNLINKABLE (an import neither the ABI nor the manifest provides), TRAP,
 * EXIT, ARG (a preopen that cannot be opened), NOMEM. Thread-safe. */
wharf_status wharf_plugin_instantiate(wharf_compiled_plugin *c,
                                      WHARF_OWN wharf_plugin **out,
                                      wharf_error *err);

/* Compiles and instantiates in one step; the plugin owns its compiled
 * plugin and, when `e` is NULL, an engine of its own. */
wharf_status wharf_plugin_new(wharf_engine *e, const wharf_manifest *m,
                              WHARF_OWN wharf_plugin **out, wharf_error *err);
/* The same from module bytes alone (copied), with default limits. */
wharf_status wharf_plugin_new_bytes(wharf_engine *e, const uint8_t *wasm,
                                    size_t len, bool wasi,
                                    WHARF_OWN wharf_plugin **out,
                                    wharf_error *err);
/* Frees the plugin (and what it owns). Not while a call is running. */
void wharf_plugin_free(WHARF_OWN wharf_plugin *p);

/* Whether the plugin exports a function named `name`. */
bool wharf_plugin_has_function(wharf_plugin *p, const char *name);

/* Calls plugin function `func` with `len` bytes of input (copied into the
 * call memory, which is reset first). On success *output points to the
 * output bytes (*outlen of them; NULL and 0 when the plugin set none),
 * owned by the plugin and valid until its next call or free.
 * Errors: PLUGIN when the function returns non-zero or sets an error (the
 * message is the plugin's, exit_code its return value), TRAP (including
 * fuel, timeout and cancel), EXIT (WASI proc_exit with a non-zero code; 0
 * counts as success), NOT_FOUND, ARG (not a `() -> i32` function), NOMEM.
 * Variables persist across calls. After a trap or an exit the instance is
 * rebuilt at the next call (variables kept), as its memory may be left
 * inconsistent. Not reentrant; one thread at a time. */
wharf_status wharf_plugin_call(wharf_plugin *p, const char *func,
                               const uint8_t *input, size_t len,
                               const uint8_t **output, size_t *outlen,
                               wharf_error *err);

/* The plugin's cancel handle: valid as long as the plugin. */
wharf_plugin_cancel *wharf_plugin_cancel_handle(wharf_plugin *p);
/* Stops the plugin's running call (it fails with TRAP, trap INTERRUPT, or
 * an HTTP request in flight is aborted); if no call is running, the next
 * call stops at once. Safe from any thread. */
void wharf_plugin_cancel_call(wharf_plugin_cancel *c);

/* Call memory access for host functions (wharf_plugin_fn), valid during
 * the call. Handles are the i64 offsets the plugin passes around. */

/* The bytes of the block at `handle`, with its length in *len, or NULL
 * (and *len = 0) when `handle` does not start a live block. The pointer is
 * valid until the next allocation in the call memory. */
uint8_t *wharf_plugin_memory(wharf_plugin *p, uint64_t handle, uint64_t *len);
/* Allocates a block holding a copy of `data` (NULL: contents unspecified);
 * returns its handle, or 0 when the call memory is exhausted or len is 0. */
uint64_t wharf_plugin_memory_new(wharf_plugin *p, const void *data, uint64_t len);
void wharf_plugin_memory_free(wharf_plugin *p, uint64_t handle);
/* Fails the running host function with a message (printf-style): the
 * plugin call ends with TRAP, trap HOST. Return its result. */
wharf_status wharf_plugin_host_error(wharf_plugin *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif /* WHARF_H */
