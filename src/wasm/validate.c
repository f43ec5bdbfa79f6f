/* validate.c: checks a decoded module against spec chapter 3 (Validation)
 * for WebAssembly 2.0: module-level rules (3.4), constant expressions
 * (3.3.10) and function bodies with the algorithm of the spec's appendix
 * (operand stack with an Unknown type, control frames).
 *
 * Owns: the operand and control stacks (scratch buffers grown by doubling
 * and reused for every function, so no allocation per instruction) and
 * m->declared_refs (C.refs), the only field of the module it writes.
 * Leaves alone: the binary format of sections (decode.c). It does decode
 * instruction bytes, so encoding errors inside bodies and constant
 * expressions are reported here, as MALFORMED.
 *
 * Errors are sticky (like wh_reader's): the first failure is recorded in
 * the context and later ones are ignored, so helpers return nothing and
 * the walk checks the status once per instruction. A reader failure always
 * wins over a type error found after it, because its bytes came first; and
 * since the spec decodes the whole module before validating it, a type
 * error sends the bodies through once more looking only for encoding
 * errors (recheck_syntax), which costs nothing on the success path. */
#include "wasmInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { UNKNOWN = 0 };            /* the spec's Unknown operand type */
enum { SPECIAL = 0xff };         /* opcodes.def: typed by hand here */

/* A control frame (spec appendix "ctrl_frame"). */
typedef struct frame {
    const uint8_t *params, *results;
    uint32_t nparams, nresults;
    uint32_t height;             /* operand stack size at entry */
    uint16_t op;                 /* WH_OP_BLOCK, LOOP, IF or ELSE */
    bool unreachable;
} frame;

typedef struct vctx {
    wharf_module *m;
    wharf_error *err;
    const wh_allocator *alloc;
    wharf_status status;         /* sticky: the first failure wins */
    bool syntax_only;            /* ignore type errors: see recheck_syntax */
    size_t at;                   /* offset of the item being checked */
    uint32_t funcidx;            /* function being checked, or WHARF_NO_FUNC */
    wh_reader r;
    uint8_t *vals;               /* operand stack of valtypes or UNKNOWN */
    uint32_t nvals, cap_vals;
    frame *frames;
    uint32_t nframes, cap_frames;
    const wh_funcdecl *fn;
    const wh_functype *ft;
} vctx;

/* Opcode -> wh_op + 1 (0 = unknown), expanded from opcodes.def: wh_op_lookup
 * as a table, since decoding opcodes is the validator's hottest path. Byte
 * codes at [code], 0xfc-prefixed ones at [256 + code]; another prefix would
 * collide there, and -Woverride-init would say so. */
static const uint8_t op_index[512] = {
#define WH_OP(name, prefix, code, text, imm, p1, p2, r) \
    [(prefix) ? 256 + (code) : (code)] = WH_OP_##name + 1,
#include "opcodes.def"
#undef WH_OP
};
_Static_assert(WH_OP_COUNT_ < 256, "op_index holds wh_op + 1 in a byte");

/* The reader's calls with the common case inline: a byte in range, and
 * indices and constants that fit in 7 bits, as most in real code do. */
static inline uint8_t rd_u8(wh_reader *r)
{
    return WH_LIKELY(r->p < r->end) ? *r->p++ : wh_rd_u8(r);
}

static inline uint32_t rd_u32(wh_reader *r)
{
    if (WH_LIKELY(r->p < r->end && *r->p < 0x80))
        return *r->p++;
    return wh_rd_u32(r);
}

static inline int32_t rd_s32(wh_reader *r)
{
    if (WH_LIKELY(r->p < r->end && *r->p < 0x80))
        return (int32_t)((uint32_t)*r->p++ << 25) >> 25;
    return wh_rd_s32(r);
}

/* Every valtype once, so a single-valtype blocktype can point at its type. */
static const uint8_t all_valtypes[] = {
    WH_I32, WH_I64, WH_F32, WH_F64, WH_V128, WH_FUNCREF, WH_EXTERNREF,
};

static const uint8_t *valtype_ref(uint8_t t)
{
    return memchr(all_valtypes, t, sizeof all_valtypes);
}

/* Unknown counts as numeric, as in the spec's appendix. */
static bool is_num(uint8_t t)
{
    return t == WH_I32 || t == WH_I64 || t == WH_F32 || t == WH_F64 || t == UNKNOWN;
}

static bool is_ref(uint8_t t)
{
    return t == WH_FUNCREF || t == WH_EXTERNREF;
}

/* Records the first failure. A pending reader error is reported instead,
 * since a type error after it may just come from reading a zero. */
__attribute__((format(printf, 3, 4)))
static void fail(vctx *v, wharf_status s, const char *fmt, ...)
{
    if (v->status || (v->syntax_only && s == WHARF_ERR_INVALID && !v->r.err))
        return;
    char msg[sizeof v->err->message];
    if (v->r.err) {
        s = WHARF_ERR_MALFORMED;
        v->at = v->r.err_off;
        snprintf(msg, sizeof msg, "%s", v->r.err);
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    v->status = wh_error_set(v->err, s, v->at, "%s", msg);
    if (v->err)
        v->err->func_index = v->funcidx;
}

static void mismatch(vctx *v)
{
    fail(v, WHARF_ERR_INVALID, "type mismatch");
}

/* Doubles a scratch buffer; the stacks never shrink while validating. */
static bool grow(vctx *v, void **buf, uint32_t *cap, size_t elem)
{
    uint32_t n = *cap ? *cap * 2 : 256;
    void *p = n > *cap ? wh_realloc(v->alloc, *buf, (size_t)n * elem) : NULL;
    if (!p) {
        fail(v, WHARF_ERR_NOMEM, "out of memory");
        return false;
    }
    *buf = p;
    *cap = n;
    return true;
}

/* ---- Operand and control stacks (spec appendix 7.3) --------------------- */

static inline void push(vctx *v, uint8_t t)
{
    if (WH_UNLIKELY(v->nvals == v->cap_vals) &&
        !grow(v, (void **)&v->vals, &v->cap_vals, 1))
        return;
    v->vals[v->nvals++] = t;
}

static inline uint8_t pop(vctx *v)
{
    const frame *f = &v->frames[v->nframes - 1];
    if (v->nvals == f->height) {
        if (!f->unreachable)
            mismatch(v);
        return UNKNOWN;
    }
    return v->vals[--v->nvals];
}

static inline uint8_t pop_expect(vctx *v, uint8_t t)
{
    uint8_t a = pop(v);
    if (a != t && a != UNKNOWN && t != UNKNOWN)
        mismatch(v);
    return a;
}

static void pop_vals(vctx *v, const uint8_t *t, uint32_t n)
{
    while (n--)
        pop_expect(v, t[n]);
}

static void push_vals(vctx *v, const uint8_t *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        push(v, t[i]);
}

/* Checks that the top of the stack matches `t` without changing it: what
 * br_table's "push_vals(pop_vals(...))" amounts to. Below the frame's
 * height an unreachable frame yields Unknown, which matches anything. */
static void peek_vals(vctx *v, const uint8_t *t, uint32_t n)
{
    const frame *f = &v->frames[v->nframes - 1];
    uint32_t avail = v->nvals - f->height;
    for (uint32_t k = 1; k <= n; k++) {
        uint8_t want = t[n - k];
        if (k > avail) {
            if (!f->unreachable)
                mismatch(v);
            continue;
        }
        uint8_t a = v->vals[v->nvals - k];
        if (a != want && a != UNKNOWN)
            mismatch(v);
    }
}

/* Pushes a frame for a block of type `bt`, then its parameters. */
static void push_frame(vctx *v, uint16_t op, const frame *bt)
{
    if (WH_UNLIKELY(v->nframes == v->cap_frames) &&
        !grow(v, (void **)&v->frames, &v->cap_frames, sizeof(frame)))
        return;
    frame *f = &v->frames[v->nframes++];
    *f = *bt;
    f->op = op;
    f->height = v->nvals;
    f->unreachable = false;
    push_vals(v, bt->params, bt->nparams);
}

/* Pops the top frame after checking that the stack holds its results. */
static frame pop_frame(vctx *v)
{
    frame f = v->frames[v->nframes - 1];
    pop_vals(v, f.results, f.nresults);
    if (v->nvals != f.height)
        mismatch(v);
    v->nvals = f.height;
    v->nframes--;
    return f;
}

static void set_unreachable(vctx *v)
{
    frame *f = &v->frames[v->nframes - 1];
    v->nvals = f->height;
    f->unreachable = true;
}

/* The frame that label `l` names, or NULL ("unknown label"). */
static const frame *label(vctx *v, uint32_t l)
{
    if (l >= v->nframes) {
        fail(v, WHARF_ERR_INVALID, "unknown label %u", l);
        return NULL;
    }
    return &v->frames[v->nframes - 1 - l];
}

/* Label types: a loop's branch goes back to its start. */
static uint32_t label_types(const frame *f, const uint8_t **t)
{
    bool loop = f->op == WH_OP_LOOP;
    *t = loop ? f->params : f->results;
    return loop ? f->nparams : f->nresults;
}

/* ---- Immediates ----------------------------------------------------------- */

/* Reads an index and checks it against `n`; false (after failing with
 * "unknown <what> <idx>") when out of range. */
static bool read_idx(vctx *v, uint32_t n, const char *what, uint32_t *idx)
{
    *idx = rd_u32(&v->r);
    if (*idx < n && !v->r.err)
        return true;
    fail(v, WHARF_ERR_INVALID, "unknown %s %u", what, *idx);
    return false;
}

static void read_zero(vctx *v)
{
    if (rd_u8(&v->r) != 0)
        fail(v, WHARF_ERR_MALFORMED, "zero byte expected");
}

static void need_memory(vctx *v)
{
    if (v->m->nmemories == 0)
        fail(v, WHARF_ERR_INVALID, "unknown memory 0");
}

/* memory.init and data.drop name data segments before the data section,
 * so spec 5.5.13 requires the data count section for them. */
static void need_datacount(vctx *v)
{
    if (!v->m->has_datacount)
        fail(v, WHARF_ERR_MALFORMED, "data count section required");
}

static const wh_tabledecl *read_table(vctx *v)
{
    uint32_t x;
    return read_idx(v, v->m->ntables, "table", &x) ? &v->m->tables[x] : NULL;
}

static const wh_elem *read_elem(vctx *v)
{
    uint32_t x;
    return read_idx(v, v->m->nelems, "elem segment", &x) ? &v->m->elems[x] : NULL;
}

/* Data indices count against the data count section, which
 * need_datacount has required (decode.c checks it matches the data). */
static void read_data(vctx *v)
{
    uint32_t x;
    read_idx(v, v->m->datacount, "data segment", &x);
}

static uint8_t read_reftype(vctx *v)
{
    uint8_t t = rd_u8(&v->r);
    if (!is_ref(t))
        fail(v, WHARF_ERR_MALFORMED, "malformed reference type");
    return t;
}

/* The function's type; [] -> [] for an unknown typeidx, which only
 * recheck_syntax gets to see. */
static const wh_functype *func_type(const wharf_module *m, uint32_t funcidx)
{
    static const wh_functype none;
    uint32_t x = m->funcs[funcidx].typeidx;
    return x < m->ntypes ? &m->types[x] : &none;
}

/* log2 of an access's natural alignment (spec 3.3.7): the width of a
 * narrow access, else the size of the value loaded or stored. */
static uint32_t natural_align(int op, const wh_opinfo *in)
{
    switch (op) {
    case WH_OP_I32_LOAD8_S: case WH_OP_I32_LOAD8_U: case WH_OP_I64_LOAD8_S:
    case WH_OP_I64_LOAD8_U: case WH_OP_I32_STORE8: case WH_OP_I64_STORE8:
        return 0;
    case WH_OP_I32_LOAD16_S: case WH_OP_I32_LOAD16_U: case WH_OP_I64_LOAD16_S:
    case WH_OP_I64_LOAD16_U: case WH_OP_I32_STORE16: case WH_OP_I64_STORE16:
        return 1;
    case WH_OP_I64_LOAD32_S: case WH_OP_I64_LOAD32_U: case WH_OP_I64_STORE32:
        return 2;
    default: {
        uint8_t t = in->r ? in->r : in->p2;
        return t == WH_I64 || t == WH_F64 ? 3 : 2;
    }
    }
}

/* The immediates of the instructions typed by the P1/P2/R columns. */
static void generic_imm(vctx *v, int op, const wh_opinfo *in)
{
    switch (in->imm) {
    case WH_IMM_MEMARG: {
        uint32_t align = rd_u32(&v->r);
        rd_u32(&v->r);                    /* offset: any u32 */
        need_memory(v);
        if (align > natural_align(op, in))
            fail(v, WHARF_ERR_INVALID, "alignment must not be larger than natural");
        break;
    }
    case WH_IMM_MEMIDX: read_zero(v); need_memory(v); break;
    case WH_IMM_I32: rd_s32(&v->r); break;
    case WH_IMM_I64: wh_rd_s64(&v->r); break;
    case WH_IMM_F32: wh_rd_f32(&v->r); break;
    case WH_IMM_F64: wh_rd_f64(&v->r); break;
    default: break;
    }
}

/* Reads a blocktype (spec 5.4.1) into bt's types: 0x40 for [] -> [], a
 * valtype for [] -> [t], or a non-negative s33 type index. */
static void read_blocktype(vctx *v, frame *bt)
{
    int64_t x = wh_rd_s33(&v->r);
    bt->nparams = bt->nresults = 0;
    bt->params = bt->results = NULL;
    if (x == -64)
        return;
    if (x < 0) {
        bt->results = x >= -64 ? valtype_ref((uint8_t)(x + 0x80)) : NULL;
        bt->nresults = 1;
        if (!bt->results)
            fail(v, WHARF_ERR_MALFORMED, "malformed block type");
        return;
    }
    if (x >= v->m->ntypes || v->r.err) {
        fail(v, WHARF_ERR_INVALID, "unknown type %lld", (long long)x);
        return;
    }
    const wh_functype *ft = &v->m->types[x];
    bt->params = ft->params;
    bt->nparams = ft->nparams;
    bt->results = ft->results;
    bt->nresults = ft->nresults;
}

/* Reads an opcode, its 0xfc prefix included; -1 after failing. */
static inline int read_opcode(vctx *v)
{
    uint32_t code = rd_u8(&v->r);
    bool prefixed = code == 0xfc;
    if (prefixed)
        code = rd_u32(&v->r);
    int op = code < 256 ? op_index[prefixed ? 256 + code : code] - 1 : -1;
    if (op < 0)
        fail(v, WHARF_ERR_MALFORMED, "illegal opcode %s%02x",
             prefixed ? "fc " : "", code);
    return op;
}

/* ---- Instructions with hand-written typing ------------------------------- */

static void op_block(vctx *v, int op)
{
    frame bt = { 0 };
    read_blocktype(v, &bt);
    if (op == WH_OP_IF)
        pop_expect(v, WH_I32);
    pop_vals(v, bt.params, bt.nparams);
    push_frame(v, (uint16_t)op, &bt);
}

static void op_else(vctx *v)
{
    if (v->frames[v->nframes - 1].op != WH_OP_IF) {
        fail(v, WHARF_ERR_MALFORMED, "else without matching if");
        return;
    }
    frame f = pop_frame(v);
    push_frame(v, WH_OP_ELSE, &f);
}

/* An `if` without `else` has an empty else branch, which must turn the
 * parameters into the results unchanged. */
static void op_end(vctx *v)
{
    frame f = pop_frame(v);
    if (f.op == WH_OP_IF && (f.nparams != f.nresults ||
        (f.nresults && memcmp(f.params, f.results, f.nresults) != 0)))
        mismatch(v);
    push_vals(v, f.results, f.nresults);
}

static void op_br(vctx *v, bool conditional)
{
    const frame *f = label(v, rd_u32(&v->r));
    const uint8_t *t;
    if (conditional)
        pop_expect(v, WH_I32);
    if (!f)
        return;
    uint32_t n = label_types(f, &t);
    pop_vals(v, t, n);
    if (conditional)
        push_vals(v, t, n);
    else
        set_unreachable(v);
}

/* br_table lists its default label last, but every label must have the
 * default's arity, so the labels are read twice rather than stored. */
static void op_br_table(vctx *v)
{
    uint32_t n = rd_u32(&v->r);
    wh_reader targets = v->r;
    for (uint32_t i = 0; i < n && !v->r.err; i++)
        rd_u32(&v->r);
    const frame *d = label(v, rd_u32(&v->r));
    pop_expect(v, WH_I32);
    if (!d || v->status)
        return;
    wh_reader after = v->r;
    const uint8_t *dt, *t;
    uint32_t arity = label_types(d, &dt);
    v->r = targets;
    for (uint32_t i = 0; i < n && !v->status; i++) {
        const frame *f = label(v, rd_u32(&v->r));
        if (f && label_types(f, &t) != arity)
            mismatch(v);
        else if (f)
            peek_vals(v, t, arity);
    }
    v->r = after;
    pop_vals(v, dt, arity);
    set_unreachable(v);
}

static void op_call(vctx *v)
{
    uint32_t x;
    if (!read_idx(v, v->m->nfuncs, "function", &x))
        return;
    const wh_functype *ft = func_type(v->m, x);
    pop_vals(v, ft->params, ft->nparams);
    push_vals(v, ft->results, ft->nresults);
}

static void op_call_indirect(vctx *v)
{
    uint32_t x;
    bool have_type = read_idx(v, v->m->ntypes, "type", &x);
    const wh_tabledecl *tab = read_table(v);
    if (!have_type || !tab)
        return;
    if (tab->type.reftype != WH_FUNCREF)
        mismatch(v);
    const wh_functype *ft = &v->m->types[x];
    pop_expect(v, WH_I32);
    pop_vals(v, ft->params, ft->nparams);
    push_vals(v, ft->results, ft->nresults);
}

/* Untyped select takes numeric or vector operands only (spec 3.3.4). */
static void op_select(vctx *v)
{
    pop_expect(v, WH_I32);
    uint8_t t1 = pop(v), t2 = pop(v);
    bool vec = (t1 == WH_V128 || t1 == UNKNOWN) && (t2 == WH_V128 || t2 == UNKNOWN);
    if (!(is_num(t1) && is_num(t2)) && !vec)
        mismatch(v);
    if (t1 != t2 && t1 != UNKNOWN && t2 != UNKNOWN)
        mismatch(v);
    push(v, t1 == UNKNOWN ? t2 : t1);
}

/* Typed select; every listed type is read so that recheck_syntax keeps
 * its place in the bytes even when the arity is wrong. */
static void op_select_t(vctx *v)
{
    uint32_t n = rd_u32(&v->r);
    uint8_t t = UNKNOWN;
    for (uint32_t i = 0; i < n && !v->r.err; i++) {
        t = rd_u8(&v->r);
        if (!valtype_ref(t))
            fail(v, WHARF_ERR_MALFORMED, "malformed value type");
    }
    if (n != 1)
        fail(v, WHARF_ERR_INVALID, "invalid result arity");
    pop_expect(v, WH_I32);
    pop_expect(v, t);
    pop_expect(v, t);
    push(v, t);
}

/* The type of local `x` (parameters first), UNKNOWN after failing. */
static uint8_t read_local(vctx *v)
{
    uint32_t x = rd_u32(&v->r);
    if (x < v->ft->nparams)
        return v->ft->params[x];
    if (x - v->ft->nparams < v->fn->nlocals && !v->r.err)
        return v->fn->local_types[x - v->ft->nparams];
    fail(v, WHARF_ERR_INVALID, "unknown local %u", x);
    return UNKNOWN;
}

static void op_global(vctx *v, bool set)
{
    uint32_t x;
    if (!read_idx(v, v->m->nglobals, "global", &x))
        return;
    const wh_globaltype *g = &v->m->globals[x].type;
    if (!set) {
        push(v, g->valtype);
        return;
    }
    if (!g->mut)
        fail(v, WHARF_ERR_INVALID, "global is immutable");
    pop_expect(v, g->valtype);
}

/* table.get/set/size/grow/fill: the operands around the table's reftype. */
static void op_table(vctx *v, int op)
{
    const wh_tabledecl *tab = read_table(v);
    uint8_t rt = tab ? tab->type.reftype : UNKNOWN;
    switch (op) {
    case WH_OP_TABLE_GET: pop_expect(v, WH_I32); push(v, rt); break;
    case WH_OP_TABLE_SET: pop_expect(v, rt); pop_expect(v, WH_I32); break;
    case WH_OP_TABLE_SIZE: push(v, WH_I32); break;
    case WH_OP_TABLE_GROW:
        pop_expect(v, WH_I32); pop_expect(v, rt); push(v, WH_I32);
        break;
    case WH_OP_TABLE_FILL:
        pop_expect(v, WH_I32); pop_expect(v, rt); pop_expect(v, WH_I32);
        break;
    }
}

static void pop_i32s(vctx *v, int n)
{
    while (n--)
        pop_expect(v, WH_I32);
}

/* The spec checks the table before the segment, though the segment's
 * index comes first in the bytes. */
static void op_table_init(vctx *v)
{
    uint32_t x = rd_u32(&v->r);
    const wh_tabledecl *tab = read_table(v);
    if (tab && x >= v->m->nelems)
        fail(v, WHARF_ERR_INVALID, "unknown elem segment %u", x);
    else if (tab && v->m->elems[x].reftype != tab->type.reftype)
        mismatch(v);
    pop_i32s(v, 3);
}

static void op_table_copy(vctx *v)
{
    const wh_tabledecl *dst = read_table(v);
    const wh_tabledecl *src = read_table(v);
    if (dst && src && dst->type.reftype != src->type.reftype)
        mismatch(v);
    pop_i32s(v, 3);
}

/* memory.init, data.drop, memory.copy and memory.fill. */
static void op_bulk_memory(vctx *v, int op)
{
    if (op == WH_OP_MEMORY_INIT || op == WH_OP_DATA_DROP) {
        need_datacount(v);
        read_data(v);
    }
    if (op == WH_OP_DATA_DROP)
        return;
    read_zero(v);
    if (op == WH_OP_MEMORY_COPY)
        read_zero(v);
    need_memory(v);
    pop_i32s(v, 3);
}

static void op_ref_is_null(vctx *v)
{
    uint8_t t = pop(v);
    if (t != UNKNOWN && !is_ref(t))
        mismatch(v);
    push(v, WH_I32);
}

/* ref.func in code may name only functions in C.refs (spec 3.4.10). */
static void op_ref_func(vctx *v)
{
    uint32_t x;
    if (read_idx(v, v->m->nfuncs, "function", &x) && !v->m->declared_refs[x])
        fail(v, WHARF_ERR_INVALID, "undeclared function reference");
    push(v, WH_FUNCREF);
}

/* ---- Function bodies (spec 3.3, appendix 7.3) ----------------------------- */

/* Checks one instruction. Numeric and memory instructions are typed from
 * the opcode table's columns; the rest by hand, one case each. */
static void check_instr(vctx *v)
{
    int op = read_opcode(v);
    if (op < 0)
        return;
    const wh_opinfo *in = &wh_opinfo_table[op];
    if (in->p1 != SPECIAL) {
        generic_imm(v, op, in);
        if (in->p2)
            pop_expect(v, in->p2);
        if (in->p1)
            pop_expect(v, in->p1);
        if (in->r)
            push(v, in->r);
        return;
    }
    switch (op) {
    case WH_OP_UNREACHABLE: set_unreachable(v); break;
    case WH_OP_BLOCK: case WH_OP_LOOP: case WH_OP_IF: op_block(v, op); break;
    case WH_OP_ELSE: op_else(v); break;
    case WH_OP_END: op_end(v); break;
    case WH_OP_BR: op_br(v, false); break;
    case WH_OP_BR_IF: op_br(v, true); break;
    case WH_OP_BR_TABLE: op_br_table(v); break;
    case WH_OP_RETURN:
        pop_vals(v, v->ft->results, v->ft->nresults);
        set_unreachable(v);
        break;
    case WH_OP_CALL: op_call(v); break;
    case WH_OP_CALL_INDIRECT: op_call_indirect(v); break;
    case WH_OP_DROP: pop(v); break;
    case WH_OP_SELECT: op_select(v); break;
    case WH_OP_SELECT_T: op_select_t(v); break;
    case WH_OP_LOCAL_GET: push(v, read_local(v)); break;
    case WH_OP_LOCAL_SET: pop_expect(v, read_local(v)); break;
    case WH_OP_LOCAL_TEE: {
        uint8_t t = read_local(v);
        pop_expect(v, t);
        push(v, t);
        break;
    }
    case WH_OP_GLOBAL_GET: op_global(v, false); break;
    case WH_OP_GLOBAL_SET: op_global(v, true); break;
    case WH_OP_TABLE_GET: case WH_OP_TABLE_SET: case WH_OP_TABLE_SIZE:
    case WH_OP_TABLE_GROW: case WH_OP_TABLE_FILL: op_table(v, op); break;
    case WH_OP_TABLE_INIT: op_table_init(v); break;
    case WH_OP_TABLE_COPY: op_table_copy(v); break;
    case WH_OP_ELEM_DROP: read_elem(v); break;
    case WH_OP_MEMORY_INIT: case WH_OP_DATA_DROP: case WH_OP_MEMORY_COPY:
    case WH_OP_MEMORY_FILL: op_bulk_memory(v, op); break;
    case WH_OP_REF_NULL: push(v, read_reftype(v)); break;
    case WH_OP_REF_IS_NULL: op_ref_is_null(v); break;
    case WH_OP_REF_FUNC: op_ref_func(v); break;
    default:
        assert(0 && "every SPECIAL opcode has a case");
        fail(v, WHARF_ERR_MALFORMED, "illegal opcode");
        break;
    }
}

static void check_body(vctx *v, uint32_t funcidx)
{
    const wh_funcdecl *fn = &v->m->funcs[funcidx];
    v->fn = fn;
    v->ft = func_type(v->m, funcidx);
    v->funcidx = funcidx;
    v->r = (wh_reader){ .base = v->m->bytes, .p = v->m->bytes + fn->body_off,
                        .end = v->m->bytes + fn->body_off + fn->body_len };
    v->nvals = v->nframes = 0;
    frame body = { .results = v->ft->results, .nresults = v->ft->nresults };
    push_frame(v, WH_OP_BLOCK, &body);
    while (v->nframes && !v->status) {
        v->at = wh_rd_offset(&v->r);
        if (v->r.p == v->r.end) {
            fail(v, WHARF_ERR_MALFORMED, "END opcode expected");
            break;
        }
        check_instr(v);
        if (v->r.err)
            fail(v, WHARF_ERR_MALFORMED, "%s", v->r.err);
    }
    v->at = wh_rd_offset(&v->r);
    if (v->r.p != v->r.end)
        fail(v, WHARF_ERR_MALFORMED, "operators remaining after end of function");
}

/* ---- Constant expressions (spec 3.3.10) ---------------------------------- */

/* global.get in a constant expression may name only an immutable imported
 * global: the core suite of 2.0 rejects defined ones as "unknown global". */
static uint8_t const_global(vctx *v)
{
    uint32_t x;
    if (!read_idx(v, v->m->nglobal_imports, "global", &x))
        return UNKNOWN;
    const wh_globaltype *g = &v->m->globals[x].type;
    if (g->mut)
        fail(v, WHARF_ERR_INVALID, "constant expression required");
    return g->valtype;
}

/* The type one constant instruction pushes; marks ref.func targets as
 * declared, since C.refs includes every function they name. */
static uint8_t const_instr(vctx *v, int op)
{
    uint32_t x;
    switch (op) {
    case WH_OP_I32_CONST: rd_s32(&v->r); return WH_I32;
    case WH_OP_I64_CONST: wh_rd_s64(&v->r); return WH_I64;
    case WH_OP_F32_CONST: wh_rd_f32(&v->r); return WH_F32;
    case WH_OP_F64_CONST: wh_rd_f64(&v->r); return WH_F64;
    case WH_OP_REF_NULL: return read_reftype(v);
    case WH_OP_REF_FUNC:
        if (read_idx(v, v->m->nfuncs, "function", &x))
            v->m->declared_refs[x] = 1;
        return WH_FUNCREF;
    case WH_OP_GLOBAL_GET: return const_global(v);
    default:
        fail(v, WHARF_ERR_INVALID, "constant expression required");
        return UNKNOWN;
    }
}

/* Checks that `e` is constant and yields exactly one value of type `t`. */
static void check_const(vctx *v, wh_expr e, uint8_t t)
{
    v->r = (wh_reader){ .base = v->m->bytes, .p = v->m->bytes + e.off,
                        .end = v->m->bytes + e.off + e.len };
    uint32_t n = 0;
    uint8_t top = UNKNOWN;
    for (;;) {
        v->at = wh_rd_offset(&v->r);
        int op = read_opcode(v);
        if (op < 0 || op == WH_OP_END || v->status)
            break;
        top = const_instr(v, op);
        n++;
    }
    v->at = e.off;
    if (v->r.p != v->r.end)
        fail(v, WHARF_ERR_MALFORMED, "END opcode expected");
    if (n != 1 || top != t)
        mismatch(v);
    v->r.err = NULL;
}

/* ---- Module (spec 3.4) ---------------------------------------------------- */

/* Where section `id` starts, for errors about items without an offset. */
static size_t section_off(const wharf_module *m, uint8_t id)
{
    for (uint32_t i = 0; i < m->nsections; i++)
        if (m->sections[i].id == id)
            return m->sections[i].off;
    return WHARF_NO_OFFSET;
}

static size_t str_off(const wharf_module *m, wh_str s)
{
    return (size_t)((const uint8_t *)s.ptr - m->bytes);
}

static void check_funcs(vctx *v)
{
    const wharf_module *m = v->m;
    for (uint32_t i = 0; i < m->nfuncs && !v->status; i++) {
        const wh_funcdecl *f = &m->funcs[i];
        if (f->typeidx < m->ntypes)
            continue;
        v->at = f->import >= 0 ? str_off(m, m->imports[f->import].name)
                               : section_off(m, WH_SEC_FUNCTION);
        fail(v, WHARF_ERR_INVALID, "unknown type %u", f->typeidx);
    }
}

static void check_limits(vctx *v, const wh_limits *l)
{
    if (l->has_max && l->min > l->max)
        fail(v, WHARF_ERR_INVALID, "size minimum must not be greater than maximum");
}

/* Tables and memories, imported ones included (spec 3.2.4-3.2.5). */
static void check_tables_memories(vctx *v)
{
    const wharf_module *m = v->m;
    v->at = section_off(m, WH_SEC_TABLE);
    for (uint32_t i = 0; i < m->ntables; i++)
        check_limits(v, &m->tables[i].type.limits);
    v->at = section_off(m, WH_SEC_MEMORY);
    if (m->nmemories > 1)
        fail(v, WHARF_ERR_INVALID, "multiple memories");
    for (uint32_t i = 0; i < m->nmemories; i++) {
        const wh_limits *l = &m->memories[i].limits;
        if (l->min > WH_MAX_PAGES || (l->has_max && l->max > WH_MAX_PAGES))
            fail(v, WHARF_ERR_INVALID,
                 "memory size must be at most 65536 pages (4GiB)");
        check_limits(v, l);
    }
}

static void check_globals(vctx *v)
{
    const wharf_module *m = v->m;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals && !v->status; i++)
        check_const(v, m->globals[i].init, m->globals[i].type.valtype);
}

/* Element segments (spec 3.4.6); function indices go into C.refs. */
static void check_elem(vctx *v, const wh_elem *e)
{
    wharf_module *m = v->m;
    if (e->mode == WH_SEG_ACTIVE) {
        v->at = e->offset.off;
        if (e->table >= m->ntables)
            fail(v, WHARF_ERR_INVALID, "unknown table %u", e->table);
        else if (m->tables[e->table].type.reftype != e->reftype)
            mismatch(v);
        check_const(v, e->offset, WH_I32);
    }
    for (uint32_t j = 0; j < e->count && !v->status; j++) {
        if (e->exprs) {
            check_const(v, e->exprs[j], e->reftype);
        } else if (e->funcidx[j] >= m->nfuncs) {
            fail(v, WHARF_ERR_INVALID, "unknown function %u", e->funcidx[j]);
        } else {
            m->declared_refs[e->funcidx[j]] = 1;
        }
    }
}

static void check_datas(vctx *v)
{
    const wharf_module *m = v->m;
    for (uint32_t i = 0; i < m->ndatas && !v->status; i++) {
        const wh_data *d = &m->datas[i];
        if (d->mode != WH_SEG_ACTIVE)
            continue;
        v->at = d->offset.off;
        if (d->memory >= m->nmemories)
            fail(v, WHARF_ERR_INVALID, "unknown memory %u", d->memory);
        check_const(v, d->offset, WH_I32);
    }
}

static uint32_t hash_str(wh_str s)
{
    uint32_t h = 2166136261u;                /* FNV-1a */
    for (uint32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

/* Export names must be unique: an open-addressing set of export numbers
 * (plus one, 0 = empty) keeps this O(n). */
static void check_export_names(vctx *v)
{
    const wharf_module *m = v->m;
    uint32_t cap = 16;
    while (cap < 2 * (uint64_t)m->nexports)
        cap *= 2;
    uint32_t *set = wh_alloc(v->alloc, cap * sizeof *set);
    if (!set) {
        fail(v, WHARF_ERR_NOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < m->nexports && !v->status; i++) {
        wh_str s = m->exports[i].name;
        uint32_t h = hash_str(s) & (cap - 1);
        for (; set[h]; h = (h + 1) & (cap - 1)) {
            wh_str o = m->exports[set[h] - 1].name;
            if (o.len == s.len && memcmp(o.ptr, s.ptr, s.len) == 0) {
                v->at = str_off(m, s);
                fail(v, WHARF_ERR_INVALID, "duplicate export name");
                break;
            }
        }
        set[h] = i + 1;
    }
    wh_free(v->alloc, set);
}

/* Export indices; exported functions go into C.refs. */
static void check_exports(vctx *v)
{
    wharf_module *m = v->m;
    const uint32_t counts[] = { m->nfuncs, m->ntables, m->nmemories, m->nglobals };
    static const char *const kinds[] = { "function", "table", "memory", "global" };
    for (uint32_t i = 0; i < m->nexports && !v->status; i++) {
        const wh_export *x = &m->exports[i];
        if (WH_NEVER(x->kind > WH_EXT_GLOBAL) || x->index >= counts[x->kind]) {
            v->at = str_off(m, x->name);
            fail(v, WHARF_ERR_INVALID, "unknown %s %u",
                 kinds[x->kind & 3], x->index);
        } else if (x->kind == WH_EXT_FUNC) {
            m->declared_refs[x->index] = 1;
        }
    }
    check_export_names(v);
}

static void check_start(vctx *v)
{
    const wharf_module *m = v->m;
    if (!m->has_start)
        return;
    v->at = section_off(m, WH_SEC_START);
    if (m->start >= m->nfuncs) {
        fail(v, WHARF_ERR_INVALID, "unknown function %u", m->start);
        return;
    }
    const wh_functype *ft = func_type(m, m->start);
    if (ft->nparams || ft->nresults)
        fail(v, WHARF_ERR_INVALID, "start function must have type [] -> []");
}

/* Everything before the bodies, in an order that fills C.refs (globals,
 * elements, exports) before any ref.func in code is checked. */
static void check_module_fields(vctx *v)
{
    check_funcs(v);
    check_tables_memories(v);
    check_globals(v);
    for (uint32_t i = 0; i < v->m->nelems && !v->status; i++)
        check_elem(v, &v->m->elems[i]);
    check_datas(v);
    check_exports(v);
    check_start(v);
}

/* The spec decodes the whole module before validating it, so an encoding
 * error in any body outranks a type error found first. On that error path
 * only, the bodies are walked again with type errors ignored. */
static void recheck_syntax(vctx *v)
{
    wharf_error saved;
    if (v->err)
        saved = *v->err;
    v->status = WHARF_OK;
    v->syntax_only = true;
    for (uint32_t i = v->m->nfunc_imports; i < v->m->nfuncs && !v->status; i++)
        check_body(v, i);
    if (v->status != WHARF_ERR_MALFORMED) {
        v->status = WHARF_ERR_INVALID;
        if (v->err)
            *v->err = saved;
    }
}

wharf_status wh_val_module(wharf_module *m, wharf_error *err)
{
    vctx v = { .m = m, .err = err, .alloc = m->arena.alloc,
               .funcidx = WHARF_NO_FUNC, .at = WHARF_NO_OFFSET };
    m->declared_refs = wh_arena_alloc(&m->arena, (size_t)m->nfuncs + 1);
    if (!m->declared_refs)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    check_module_fields(&v);
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs && !v.status; i++)
        check_body(&v, i);
    if (v.status == WHARF_ERR_INVALID)
        recheck_syntax(&v);
    wh_free(v.alloc, v.vals);
    wh_free(v.alloc, v.frames);
    return v.status;
}
