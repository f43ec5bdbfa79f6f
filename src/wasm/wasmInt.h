/* wasmInt.h: the engine's shared internals, the contract between its parts.
 *
 *   decode.c    bytes -> wharf_module fields (wh_dec_module)
 *   validate.c  type-checks the decoded module (wh_val_module)
 *   compile.c   function bodies -> pre-decoded internal code (wh_interp_compile)
 *   interp.c    runs that code (wh_interp_call)
 *   runtime.c   engine, linker, instances, externs, calls, traps: the public API
 *
 * Data flows one way: bytes -> module (immutable once built, shared) ->
 * instance (per thread) -> call. Nothing here knows of WASI or HTTP.
 *
 * Values live in 64-bit slots (wharf_slot): i32 in the low 32 bits (upper
 * bits unspecified), i64, f32 (low 32 bits), f64 as bit patterns,
 * references as pointers (wharf_func * or the host's externref), and a
 * v128 in two consecutive slots, low half first.
 */
#ifndef WH_WASM_INT_H
#define WH_WASM_INT_H

#include "../../include/wharf.h"
#include "../base/base.h"

/* ---- Encodings (spec 5.3) --------------------------------------------- */

enum {
    WH_I32 = 0x7f, WH_I64 = 0x7e, WH_F32 = 0x7d, WH_F64 = 0x7c,
    WH_V128 = 0x7b, WH_FUNCREF = 0x70, WH_EXTERNREF = 0x6f,
};

enum { WH_EXT_FUNC = 0, WH_EXT_TABLE = 1, WH_EXT_MEMORY = 2, WH_EXT_GLOBAL = 3 };

#define WH_PAGE_SIZE 65536u
#define WH_MAX_PAGES 65536u          /* 4 GiB, the 32-bit limit */
#define WH_MAX_TABLE 10000000u       /* implementation limit on table size */

/* Section ids in the order the spec requires (datacount sits before code). */
enum {
    WH_SEC_CUSTOM = 0, WH_SEC_TYPE, WH_SEC_IMPORT, WH_SEC_FUNCTION,
    WH_SEC_TABLE, WH_SEC_MEMORY, WH_SEC_GLOBAL, WH_SEC_EXPORT, WH_SEC_START,
    WH_SEC_ELEMENT, WH_SEC_CODE, WH_SEC_DATA, WH_SEC_DATACOUNT,
};

/* Instruction opcodes: WH_OP_<NAME>, from opcodes.def. The enum is dense;
 * use wh_op_lookup to map (prefix, code) bytes to it. */
typedef enum wh_op {
#define WH_OP(name, prefix, code, text, imm, p1, p2, r) WH_OP_##name,
#include "opcodes.def"
#undef WH_OP
    WH_OP_COUNT_
} wh_op;

/* Immediate kinds named in opcodes.def's IMM column. */
enum wh_imm {
    WH_IMM_NONE, WH_IMM_BLOCKTYPE, WH_IMM_LABEL, WH_IMM_BR_TABLE, WH_IMM_FUNC,
    WH_IMM_CALL_INDIRECT, WH_IMM_LOCAL, WH_IMM_GLOBAL, WH_IMM_TABLE,
    WH_IMM_MEMARG, WH_IMM_MEMIDX, WH_IMM_I32, WH_IMM_I64, WH_IMM_F32,
    WH_IMM_F64, WH_IMM_SELECT_T, WH_IMM_REFTYPE, WH_IMM_DATA_MEM,
    WH_IMM_DATA, WH_IMM_MEM_MEM, WH_IMM_ELEM_TABLE, WH_IMM_ELEM,
    WH_IMM_TABLE_TABLE,
};

typedef struct wh_opinfo {
    const char *text;
    uint8_t prefix, code, imm;
    uint8_t p1, p2, r;     /* WH_I32..; 0 = absent; 0xff = SPECIAL */
} wh_opinfo;

extern const wh_opinfo wh_opinfo_table[WH_OP_COUNT_];
/* (prefix, code) -> op, or -1 for an unknown opcode. */
int wh_op_lookup(uint8_t prefix, uint32_t code);

/* ---- Reading bytes ------------------------------------------------------ */

/* A cursor over module bytes with a sticky error (SQLite's mallocFailed):
 * after the first failure every read returns 0 and `err` stays set, so the
 * caller checks once per item. `base` is the start of the whole module so
 * errors carry absolute offsets. */
typedef struct wh_reader {
    const uint8_t *base, *p, *end;
    const char *err;        /* static message, NULL while ok */
    size_t err_off;
} wh_reader;

void wh_rd_fail(wh_reader *r, const char *msg);
uint8_t wh_rd_u8(wh_reader *r);
uint32_t wh_rd_u32(wh_reader *r);      /* LEB128, at most 5 bytes */
int32_t wh_rd_s32(wh_reader *r);
int64_t wh_rd_s33(wh_reader *r);       /* block types */
int64_t wh_rd_s64(wh_reader *r);
uint32_t wh_rd_f32(wh_reader *r);      /* raw bits */
uint64_t wh_rd_f64(wh_reader *r);
static inline size_t wh_rd_offset(const wh_reader *r) { return (size_t)(r->p - r->base); }

/* ---- The decoded module ------------------------------------------------- */

typedef struct wh_str { const char *ptr; uint32_t len; } wh_str;  /* not NUL-terminated */

typedef struct wh_functype {
    uint32_t nparams, nresults;
    const uint8_t *params, *results;   /* valtypes */
    uint32_t param_slots, result_slots;/* v128 counts two */
    uint64_t hash;                     /* structural: equal types, equal hash */
} wh_functype;

bool wh_functype_equal(const wh_functype *a, const wh_functype *b);
/* The `hash` field's value: every producer of a wh_functype (decoder, host
 * functions) sets hash = wh_functype_hash(t) once params/results are set. */
uint64_t wh_functype_hash(const wh_functype *t);
uint32_t wh_valtype_slots(uint8_t t);  /* 2 for v128, else 1 */

typedef struct wh_limits { uint32_t min, max; bool has_max; } wh_limits;
typedef struct wh_tabletype { uint8_t reftype; wh_limits limits; } wh_tabletype;
typedef struct wh_globaltype { uint8_t valtype; bool mut; } wh_globaltype;

/* A constant expression: its bytes in the module, up to and including the
 * final `end`. Evaluated at instantiation. */
typedef struct wh_expr { uint32_t off, len; } wh_expr;

typedef struct wh_import {
    wh_str module, name;
    uint8_t kind;                 /* WH_EXT_* */
    uint32_t index;               /* in its kind's index space */
} wh_import;

typedef struct wh_export { wh_str name; uint8_t kind; uint32_t index; } wh_export;

struct wh_compiled;

typedef struct wh_funcdecl {
    uint32_t typeidx;
    const wh_functype *type;
    int32_t import;               /* index in module->imports, or -1 */
    /* Defined functions only: */
    uint32_t nlocals;             /* declared locals, params excluded */
    uint8_t *local_types;
    uint32_t body_off, body_len;  /* instruction bytes, including the final end */
    wh_str name;                  /* from the name section; len 0 if none */
    struct wh_compiled *compiled; /* set by wh_interp_compile */
} wh_funcdecl;

typedef struct wh_tabledecl { wh_tabletype type; int32_t import; } wh_tabledecl;
typedef struct wh_memdecl { wh_limits limits; int32_t import; } wh_memdecl;
typedef struct wh_globaldecl {
    wh_globaltype type; int32_t import;
    wh_expr init;                 /* defined globals only */
} wh_globaldecl;

enum { WH_SEG_ACTIVE, WH_SEG_PASSIVE, WH_SEG_DECLARATIVE };

typedef struct wh_elem {
    uint8_t mode, reftype;
    uint32_t table;
    wh_expr offset;               /* active only */
    uint32_t count;
    uint32_t *funcidx;            /* kinds 0-3: function indices, else NULL */
    wh_expr *exprs;               /* kinds 4-7: const exprs, else NULL */
} wh_elem;

typedef struct wh_data {
    uint8_t mode;
    uint32_t memory;
    wh_expr offset;               /* active only */
    uint32_t off, len;            /* payload bytes in the module */
} wh_data;

struct wharf_module {
    wharf_engine *engine;
    wh_arena arena;               /* everything below lives here */
    uint8_t *bytes;               /* owned copy of the binary */
    size_t len;

    uint32_t ntypes;    wh_functype *types;
    uint32_t nimports;  wh_import *imports;
    uint32_t nfuncs;    wh_funcdecl *funcs;     /* imports first */
    uint32_t ntables;   wh_tabledecl *tables;
    uint32_t nmemories; wh_memdecl *memories;
    uint32_t nglobals;  wh_globaldecl *globals;
    uint32_t nexports;  wh_export *exports;
    uint32_t nelems;    wh_elem *elems;
    uint32_t ndatas;    wh_data *datas;
    uint32_t nfunc_imports, ntable_imports, nmemory_imports, nglobal_imports;
    bool has_start;     uint32_t start;
    bool has_datacount; uint32_t datacount;
    wh_str name;                  /* module name from the name section */

    /* Section table for `wharf inspect`: id, offset and size of each. */
    uint32_t nsections;
    struct wh_section { uint8_t id; uint32_t off, size; wh_str custom_name; } *sections;

    /* Set by the validator: funcidx declared by elems, exports and globals,
     * as C.refs in spec 3.4.10 (ref.func may only name these). */
    uint8_t *declared_refs;       /* one byte per function */

    wharf_valkind *kinds;         /* public-facing copies of valtypes */
    uint32_t *kinds_at;           /* per type: index of its params in kinds */

    /* The initial memory image (runtime), built at the first pre-linked
     * instantiation: the one field set after the module is built, once,
     * atomically. */
    struct wh_rt_image *image;
};

/* Fills `err` with status/message/offset; returns the status. */
wharf_status wh_error_set(wharf_error *err, wharf_status s, uint64_t offset,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* decode.c: parses m->bytes into m's fields. MALFORMED on any binary-format
 * error (spec 5), with the offset of the offending byte. */
wharf_status wh_dec_module(wharf_module *m, wharf_error *err);

/* validate.c: INVALID on any validation error (spec 3), with the offset of
 * the offending instruction or field. Sets m->declared_refs. */
wharf_status wh_val_module(wharf_module *m, wharf_error *err);

/* compile.c: compiles every defined function of a validated module into
 * internal code (funcs[i].compiled). NOMEM is its only failure. */
wharf_status wh_interp_compile(wharf_module *m, wharf_error *err);
void wh_interp_compiled_free(wharf_module *m);  /* if not arena-allocated */

/* ---- Runtime objects ----------------------------------------------------- */

struct wharf_memory {
    uint8_t *base;                /* reserved once; never moves when growing */
    uint64_t size;                /* bytes accessible now */
    uint32_t pages, max_pages;    /* max_pages: declared max and limit combined */
    size_t reserved;              /* bytes of address space reserved */
};

struct wharf_table {
    uint8_t reftype;
    uint32_t size, max;           /* max = UINT32_MAX when unbounded */
    void **elems;                 /* wharf_func * or externref; NULL = null */
    const wh_allocator *alloc;
};

struct wharf_global {
    uint8_t valtype;
    bool mut;
    wharf_slot val[2];            /* two slots for v128 */
};

struct wharf_func {
    const wh_functype *type;
    wharf_instance *inst;         /* owning instance; NULL for host functions */
    uint32_t funcidx;             /* in its module */
    const struct wh_compiled *code;  /* NULL for host functions */
    wharf_host_fn host;
    void *user;
    const wharf_valkind *kinds;   /* params then results, public form */
};

/* Per-call execution state. Lives in the instance that the host called
 * into; calls into other instances continue on the same stack. */
typedef struct wh_exec {
    wharf_slot *stack, *stack_end;
    uint32_t depth, max_depth;
    int64_t ticks;                /* countdown to the next slow limit check */
    bool fuel_on;
    uint64_t fuel;                /* left, when fuel_on */
    uint64_t deadline_ns;         /* wh_now_ns() deadline; 0 = none */
    volatile int *interrupt;      /* set from other threads */
    wharf_error *err;             /* where a trap is described; never NULL */
    wharf_error scratch_err;
    wharf_instance *entry;
    wharf_instance *current;      /* instance of the running function */
    wharf_slot *host_top;         /* first free slot while a host function runs */
} wh_exec;

struct wharf_instance {
    wharf_module *module;
    wharf_engine *engine;
    wharf_func **funcs;           /* index spaces, imports first */
    wharf_table **tables;
    wharf_memory **memories;
    wharf_global **globals;
    wharf_memory *mem0;           /* memories[0] or NULL: the hot one */
    uint8_t *elem_dropped, *data_dropped;
    wharf_limits limits;
    uint64_t fuel;                /* fuel left between calls */
    volatile int interrupt;
    wh_exec exec;
    wh_arena arena;               /* owned funcs/tables/memories/globals */
};

/* The ticks between slow checks when only a deadline/interrupt is armed. */
#define WH_TICKS_PER_CHECK 65536

/* runtime.c, used by the interpreter. */

/* Calls any function (host or wasm) with arguments at sp[0..] and results
 * written to sp[0..]. The stack above sp is free for the callee. */
wharf_status wh_rt_invoke(wh_exec *ex, wharf_func *f, wharf_slot *sp);
/* Describes a trap in ex->err and returns WHARF_ERR_TRAP. `f` may be NULL;
 * `offset` is a module byte offset or WHARF_NO_OFFSET. */
wharf_status wh_rt_trap(wh_exec *ex, wharf_trap code, const wharf_func *f,
                        uint64_t offset);
/* The slow path of the fuel/deadline/interrupt check, entered when
 * ex->ticks went below zero after charging `cost`. Refills ticks, or
 * traps (FUEL, DEADLINE, INTERRUPT). */
wharf_status wh_rt_check_limits(wh_exec *ex);
/* memory.grow: old size in pages, or -1 past the max or the limit. */
int32_t wh_rt_memory_grow(wharf_memory *m, uint32_t delta);
/* table.grow: old size, or -1. */
int32_t wh_rt_table_grow(wharf_table *t, uint32_t delta, void *init);
/* Item i of element segment `e` as a reference (wharf_func * or NULL),
 * evaluating its constant expression in `inst` when it has one. */
void *wh_rt_elem_item(const wharf_instance *inst, const wh_elem *e, uint32_t i);

/* interp.c: runs wasm function `f` (f->code != NULL) with its arguments at
 * sp[0..]; results are written from sp[0]. */
wharf_status wh_interp_call(wh_exec *ex, wharf_func *f, wharf_slot *sp);

#endif /* WH_WASM_INT_H */
