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
/* The caller's memory 0 (NULL and *len = 0 if it has none). The pointer is
 * valid until the guest runs again (memory.grow may move it). */
uint8_t *wharf_caller_memory(wharf_caller *c, size_t *len);
/* Records a trap with a message (printf-style); return its result. */
wharf_status wharf_caller_trap(wharf_caller *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Records an exit request (WASI proc_exit); return its result. */
wharf_status wharf_caller_exit(wharf_caller *c, int code);

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
 * memories and tables stay), NOMEM. On error *out is NULL. */
wharf_status wharf_instance_new(wharf_module *m, const wharf_linker *l,
                                const wharf_limits *limits,
                                WHARF_OWN wharf_instance **out, wharf_error *err);
void wharf_instance_free(WHARF_OWN wharf_instance *inst);

/* Finds an export by name. Returns NOT_FOUND if absent or of another kind. */
wharf_status wharf_instance_func(wharf_instance *inst, const char *name,
                                 wharf_func **out);
wharf_status wharf_instance_global(wharf_instance *inst, const char *name,
                                   wharf_global **out);
wharf_status wharf_instance_memory_export(wharf_instance *inst, const char *name,
                                          wharf_memory **out);
wharf_status wharf_instance_table_export(wharf_instance *inst, const char *name,
                                         wharf_table **out);

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

#ifdef __cplusplus
}
#endif
#endif /* WHARF_H */
