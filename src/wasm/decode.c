/* decode.c: the binary format (spec chapter 5): m->bytes -> the fields of
 * struct wharf_module.
 *
 * Owns section framing and order, every section's entries, the extent of
 * constant expressions, the expansion of local declarations and the `name`
 * custom section. Function bodies are only framed: their bytes are
 * recorded as a range, and the validator decodes them (so body-level
 * encoding errors, and "data count section required", are reported there).
 * Index validity (typeidx, funcidx, ...) is validation too: a function
 * whose typeidx is out of range gets type == NULL.
 *
 * Everything is allocated from m->arena; after a failure the arena holds
 * partial results that die with the module. Errors use the reader's sticky
 * error: the first failure wins and every later read returns 0, so loops
 * check it once per entry. Strings (wh_str) point into m->bytes. */
#include "wasmInt.h"

#include <string.h>

/* A sanity cap on declared locals per function, well above what compilers
 * emit; the spec only bounds the sum by 2^32 - 1. */
#define MAX_LOCALS 50000u

typedef struct dec {
    wharf_module *m;
    wh_reader r;                 /* bounded to the current section */
    bool nomem;
    uint8_t last_rank;           /* order rank of the last known section */
    bool has_code;
    uint32_t sections_cap;
    size_t data_count_off;       /* where a data count mismatch is reported */
    const uint8_t *names;        /* `name` section payload, read last */
    size_t names_len;
} dec;

/* ---- Reading helpers ----------------------------------------------------- */

static size_t here(const dec *d)
{
    return wh_rd_offset(&d->r);
}

static size_t remaining(const dec *d)
{
    return (size_t)(d->r.end - d->r.p);
}

/* Fails at `off` (the offending byte) unless an earlier error stands. */
static void fail_at(dec *d, size_t off, const char *msg)
{
    if (d->r.err)
        return;
    d->r.p = d->r.base + off;
    wh_rd_fail(&d->r, msg);
}

/* n zeroed entries from the module arena; NULL for n == 0 or on error. */
static void *alloc(dec *d, uint32_t n, size_t size)
{
    if (n == 0 || d->r.err)
        return NULL;
    void *p = wh_arena_alloc(&d->m->arena, (size_t)n * size);
    if (!p) {
        d->nomem = true;
        wh_rd_fail(&d->r, "out of memory");
    }
    return p;
}

/* A vector length. Every entry takes at least one byte, so a count the
 * rest of the section cannot hold fails here, before anything is
 * allocated for it. */
static uint32_t read_count(dec *d)
{
    uint32_t n = wh_rd_u32(&d->r);
    if (n > remaining(d))
        fail_at(d, (size_t)(d->r.end - d->r.base), "unexpected end");
    return d->r.err ? 0 : n;
}

/* n raw bytes, or NULL (with an error) when the section is shorter. */
static const uint8_t *read_raw(dec *d, size_t n, const char *msg)
{
    if (n > remaining(d)) {
        fail_at(d, here(d), msg);
        return NULL;
    }
    const uint8_t *p = d->r.p;
    d->r.p += n;
    return p;
}

/* Spec 5.2.4: names are UTF-8 (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : c < 0xc0 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3
                   : c < 0xf8 ? 4 : 0;
        if (len == 0 || n - i < len)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
            return false;
        i += len;
    }
    return true;
}

static wh_str read_name(dec *d)
{
    wh_str s = { "", 0 };
    uint32_t len = wh_rd_u32(&d->r);
    size_t off = here(d);
    const uint8_t *p = read_raw(d, len, "length out of bounds");
    if (!p)
        return s;
    if (!utf8_valid(p, len)) {
        fail_at(d, off, "malformed UTF-8 encoding");
        return s;
    }
    s.ptr = (const char *)p;
    s.len = len;
    return s;
}

/* ---- Types (spec 5.3) ---------------------------------------------------- */

static uint8_t read_valtype(dec *d)
{
    size_t off = here(d);
    uint8_t t = wh_rd_u8(&d->r);
    switch (t) {
    case WH_I32: case WH_I64: case WH_F32: case WH_F64: case WH_V128:
    case WH_FUNCREF: case WH_EXTERNREF:
        return t;
    }
    fail_at(d, off, "malformed value type");
    return 0;
}

static uint8_t read_reftype(dec *d)
{
    size_t off = here(d);
    uint8_t t = wh_rd_u8(&d->r);
    if (t != WH_FUNCREF && t != WH_EXTERNREF)
        fail_at(d, off, "malformed reference type");
    return t;
}

static const uint8_t *read_valtypes(dec *d, uint32_t *n, uint32_t *slots)
{
    *n = read_count(d);
    uint8_t *v = alloc(d, *n, 1);
    *slots = 0;
    for (uint32_t i = 0; i < *n && !d->r.err; i++) {
        v[i] = read_valtype(d);
        *slots += wh_valtype_slots(v[i]);
    }
    return v;
}

static void read_functype(dec *d, wh_functype *t)
{
    size_t off = here(d);
    if (wh_rd_u8(&d->r) != 0x60) {
        fail_at(d, off, "malformed function type");
        return;
    }
    t->params = read_valtypes(d, &t->nparams, &t->param_slots);
    t->results = read_valtypes(d, &t->nresults, &t->result_slots);
    t->hash = wh_functype_hash(t);
}

/* The flags byte is a one-bit LEB128 in 2.0; memory64 and threads will
 * give its other bits meaning. */
static void read_limits(dec *d, wh_limits *l)
{
    size_t off = here(d);
    uint8_t flags = wh_rd_u8(&d->r);
    if (flags > 1) {
        fail_at(d, off, flags & 0x80 ? "integer representation too long"
                                     : "integer too large");
        return;
    }
    l->min = wh_rd_u32(&d->r);
    l->has_max = flags & 1;
    if (l->has_max)
        l->max = wh_rd_u32(&d->r);
}

static void read_tabletype(dec *d, wh_tabletype *t)
{
    t->reftype = read_reftype(d);
    read_limits(d, &t->limits);
}

static void read_globaltype(dec *d, wh_globaltype *t)
{
    t->valtype = read_valtype(d);
    size_t off = here(d);
    uint8_t mut = wh_rd_u8(&d->r);
    if (mut > 1)
        fail_at(d, off, "malformed mutability");
    t->mut = mut == 1;
}

static void set_functype(dec *d, wh_funcdecl *f)
{
    f->typeidx = wh_rd_u32(&d->r);
    f->type = f->typeidx < d->m->ntypes ? &d->m->types[f->typeidx] : NULL;
}

/* ---- Constant expressions (spec 5.4.9) ----------------------------------- */

/* Steps over one instruction's immediates. */
static void skip_imm(dec *d, uint8_t imm)
{
    wh_reader *r = &d->r;
    uint32_t n;
    switch (imm) {
    case WH_IMM_NONE: break;
    case WH_IMM_BLOCKTYPE: wh_rd_s33(r); break;
    case WH_IMM_LABEL: case WH_IMM_FUNC: case WH_IMM_LOCAL: case WH_IMM_GLOBAL:
    case WH_IMM_TABLE: case WH_IMM_MEMIDX: case WH_IMM_DATA: case WH_IMM_ELEM:
        wh_rd_u32(r);
        break;
    case WH_IMM_CALL_INDIRECT: case WH_IMM_MEMARG: case WH_IMM_DATA_MEM:
    case WH_IMM_MEM_MEM: case WH_IMM_ELEM_TABLE: case WH_IMM_TABLE_TABLE:
        wh_rd_u32(r);
        wh_rd_u32(r);
        break;
    case WH_IMM_BR_TABLE:
        n = read_count(d);
        for (uint32_t i = 0; i <= n && !r->err; i++)
            wh_rd_u32(r);
        break;
    case WH_IMM_I32: wh_rd_s32(r); break;
    case WH_IMM_I64: wh_rd_s64(r); break;
    case WH_IMM_F32: wh_rd_f32(r); break;
    case WH_IMM_F64: wh_rd_f64(r); break;
    case WH_IMM_SELECT_T:
        n = read_count(d);
        for (uint32_t i = 0; i < n && !r->err; i++)
            read_valtype(d);
        break;
    case WH_IMM_REFTYPE: read_reftype(d); break;
    default: fail_at(d, here(d), "illegal opcode"); break;
    }
}

/* Finds where a constant expression ends: decodes instructions up to the
 * `end` that closes it (nested blocks included, so a non-constant
 * expression is framed right and left to the validator to reject). */
static wh_expr read_expr(dec *d)
{
    size_t start = here(d);
    uint32_t depth = 0;
    while (!d->r.err) {
        size_t at = here(d);
        uint8_t prefix = 0;
        uint32_t code = wh_rd_u8(&d->r);
        if (code == 0xfc || code == 0xfd) {
            prefix = (uint8_t)code;
            code = wh_rd_u32(&d->r);
        }
        int op = d->r.err ? -1 : wh_op_lookup(prefix, code);
        if (op < 0) {
            fail_at(d, at, "illegal opcode");
            break;
        }
        if (op == WH_OP_END && depth-- == 0)
            break;
        if (op == WH_OP_BLOCK || op == WH_OP_LOOP || op == WH_OP_IF)
            depth++;
        skip_imm(d, wh_opinfo_table[op].imm);
    }
    return (wh_expr){ (uint32_t)start, (uint32_t)(here(d) - start) };
}

/* ---- Sections (spec 5.5) -------------------------------------------------- */

static void sec_type(dec *d)
{
    wharf_module *m = d->m;
    m->ntypes = read_count(d);
    m->types = alloc(d, m->ntypes, sizeof *m->types);
    for (uint32_t i = 0; i < m->ntypes && !d->r.err; i++)
        read_functype(d, &m->types[i]);
}

/* Adds import `i`'s entity to its index space; the spaces were sized for
 * every import being of that kind. */
static void read_import(dec *d, uint32_t i)
{
    wharf_module *m = d->m;
    wh_import *im = &m->imports[i];
    im->module = read_name(d);
    im->name = read_name(d);
    size_t off = here(d);
    im->kind = wh_rd_u8(&d->r);
    switch (im->kind) {
    case WH_EXT_FUNC:
        im->index = m->nfuncs;
        m->funcs[m->nfuncs].import = (int32_t)i;
        set_functype(d, &m->funcs[m->nfuncs++]);
        break;
    case WH_EXT_TABLE:
        im->index = m->ntables;
        m->tables[m->ntables].import = (int32_t)i;
        read_tabletype(d, &m->tables[m->ntables++].type);
        break;
    case WH_EXT_MEMORY:
        im->index = m->nmemories;
        m->memories[m->nmemories].import = (int32_t)i;
        read_limits(d, &m->memories[m->nmemories++].limits);
        break;
    case WH_EXT_GLOBAL:
        im->index = m->nglobals;
        m->globals[m->nglobals].import = (int32_t)i;
        read_globaltype(d, &m->globals[m->nglobals++].type);
        break;
    default:
        fail_at(d, off, "malformed import kind");
    }
}

static void sec_import(dec *d)
{
    wharf_module *m = d->m;
    uint32_t n = read_count(d);
    m->imports = alloc(d, n, sizeof *m->imports);
    m->funcs = alloc(d, n, sizeof *m->funcs);
    m->tables = alloc(d, n, sizeof *m->tables);
    m->memories = alloc(d, n, sizeof *m->memories);
    m->globals = alloc(d, n, sizeof *m->globals);
    for (m->nimports = 0; m->nimports < n && !d->r.err; m->nimports++)
        read_import(d, m->nimports);
    m->nfunc_imports = m->nfuncs;
    m->ntable_imports = m->ntables;
    m->nmemory_imports = m->nmemories;
    m->nglobal_imports = m->nglobals;
}

/* Index spaces put imports first: returns a copy of the `nimp` imported
 * entries of `arr` with room for `n` defined ones after them. */
static void *extend_space(dec *d, void *arr, uint32_t nimp, uint32_t n,
                          size_t size)
{
    void *p = alloc(d, nimp + n, size);
    if (p && nimp)
        memcpy(p, arr, (size_t)nimp * size);
    return p ? p : arr;
}

static void sec_function(dec *d)
{
    wharf_module *m = d->m;
    uint32_t n = read_count(d);
    m->funcs = extend_space(d, m->funcs, m->nfuncs, n, sizeof *m->funcs);
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        wh_funcdecl *f = &m->funcs[m->nfuncs++];
        f->import = -1;
        set_functype(d, f);
    }
}

static void sec_table(dec *d)
{
    wharf_module *m = d->m;
    uint32_t n = read_count(d);
    m->tables = extend_space(d, m->tables, m->ntables, n, sizeof *m->tables);
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        wh_tabledecl *t = &m->tables[m->ntables++];
        t->import = -1;
        read_tabletype(d, &t->type);
    }
}

static void sec_memory(dec *d)
{
    wharf_module *m = d->m;
    uint32_t n = read_count(d);
    m->memories = extend_space(d, m->memories, m->nmemories, n,
                               sizeof *m->memories);
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        wh_memdecl *mem = &m->memories[m->nmemories++];
        mem->import = -1;
        read_limits(d, &mem->limits);
    }
}

static void sec_global(dec *d)
{
    wharf_module *m = d->m;
    uint32_t n = read_count(d);
    m->globals = extend_space(d, m->globals, m->nglobals, n, sizeof *m->globals);
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        wh_globaldecl *g = &m->globals[m->nglobals++];
        g->import = -1;
        read_globaltype(d, &g->type);
        g->init = read_expr(d);
    }
}

static void sec_export(dec *d)
{
    wharf_module *m = d->m;
    m->nexports = read_count(d);
    m->exports = alloc(d, m->nexports, sizeof *m->exports);
    for (uint32_t i = 0; i < m->nexports && !d->r.err; i++) {
        wh_export *e = &m->exports[i];
        e->name = read_name(d);
        size_t off = here(d);
        e->kind = wh_rd_u8(&d->r);
        if (e->kind > WH_EXT_GLOBAL)
            fail_at(d, off, "malformed export kind");
        e->index = wh_rd_u32(&d->r);
    }
}

static void sec_start(dec *d)
{
    d->m->has_start = true;
    d->m->start = wh_rd_u32(&d->r);
}

/* The elemkind byte of segment kinds 1-3: 0x00 (funcref) is the only one. */
static void read_elemkind(dec *d)
{
    size_t off = here(d);
    if (wh_rd_u8(&d->r) != 0)
        fail_at(d, off, "malformed element kind");
}

static void read_elem_items(dec *d, wh_elem *e, bool exprs)
{
    e->count = read_count(d);
    if (exprs) {
        e->exprs = alloc(d, e->count, sizeof *e->exprs);
        for (uint32_t i = 0; i < e->count && !d->r.err; i++)
            e->exprs[i] = read_expr(d);
    } else {
        e->funcidx = alloc(d, e->count, sizeof *e->funcidx);
        for (uint32_t i = 0; i < e->count && !d->r.err; i++)
            e->funcidx[i] = wh_rd_u32(&d->r);
    }
}

/* Element segment kinds 0-7 (spec 5.5.12): bit 0 = passive or declarative,
 * bit 1 = explicit table index (active) or declarative, bit 2 = items are
 * expressions instead of function indices. */
static void read_elem(dec *d, wh_elem *e)
{
    size_t off = here(d);
    uint32_t kind = wh_rd_u32(&d->r);
    if (kind > 7) {
        fail_at(d, off, "malformed elements segment kind");
        return;
    }
    e->mode = !(kind & 1) ? WH_SEG_ACTIVE
            : (kind & 2) ? WH_SEG_DECLARATIVE : WH_SEG_PASSIVE;
    e->reftype = WH_FUNCREF;
    if (e->mode == WH_SEG_ACTIVE) {
        if (kind & 2)
            e->table = wh_rd_u32(&d->r);
        e->offset = read_expr(d);
    }
    if (kind & 3) {
        if (kind & 4)
            e->reftype = read_reftype(d);
        else
            read_elemkind(d);
    }
    read_elem_items(d, e, kind & 4);
}

static void sec_element(dec *d)
{
    wharf_module *m = d->m;
    m->nelems = read_count(d);
    m->elems = alloc(d, m->nelems, sizeof *m->elems);
    for (uint32_t i = 0; i < m->nelems && !d->r.err; i++)
        read_elem(d, &m->elems[i]);
}

static void sec_datacount(dec *d)
{
    d->m->has_datacount = true;
    d->m->datacount = wh_rd_u32(&d->r);
}

/* Local declarations (spec 5.5.13), expanded into one type per local. A
 * first pass checks the types and the total; the second fills. */
static void read_locals(dec *d, wh_funcdecl *f)
{
    uint32_t ngroups = read_count(d);
    const uint8_t *start = d->r.p;
    uint32_t total = 0;
    for (uint32_t i = 0; i < ngroups && !d->r.err; i++) {
        size_t off = here(d);
        uint32_t n = wh_rd_u32(&d->r);
        read_valtype(d);
        if (n > MAX_LOCALS - total)
            fail_at(d, off, "too many locals");
        total += n;
    }
    f->local_types = alloc(d, total, 1);
    if (d->r.err || total == 0)
        return;
    f->nlocals = total;
    d->r.p = start;
    for (uint32_t i = 0, k = 0; i < ngroups; i++) {
        uint32_t n = wh_rd_u32(&d->r);
        memset(f->local_types + k, wh_rd_u8(&d->r), n);
        k += n;
    }
}

/* One code entry: locals, then the body up to the entry's end. The body
 * itself is the validator's to decode; only its final `end` is checked. */
static void read_code(dec *d, wh_funcdecl *f)
{
    uint32_t size = wh_rd_u32(&d->r);
    if (size > remaining(d)) {
        fail_at(d, here(d), "length out of bounds");
        return;
    }
    const uint8_t *section_end = d->r.end;
    d->r.end = d->r.p + size;
    read_locals(d, f);
    f->body_off = (uint32_t)here(d);
    f->body_len = (uint32_t)remaining(d);
    if (f->body_len == 0 || d->r.end[-1] != 0x0b)
        fail_at(d, (size_t)(d->r.end - d->r.base),
                "unexpected end of section or function");
    d->r.p = d->r.end;
    d->r.end = section_end;
}

static void sec_code(dec *d)
{
    wharf_module *m = d->m;
    size_t off = here(d);
    uint32_t n = read_count(d);
    d->has_code = true;
    if (!d->r.err && n != m->nfuncs - m->nfunc_imports) {
        fail_at(d, off, "function and code section have inconsistent lengths");
        return;
    }
    for (uint32_t i = 0; i < n && !d->r.err; i++)
        read_code(d, &m->funcs[m->nfunc_imports + i]);
}

/* Data segment kinds 0-2 (spec 5.5.14): active in memory 0, passive,
 * active with an explicit memory index. */
static void read_data(dec *d, wh_data *s)
{
    size_t off = here(d);
    uint32_t kind = wh_rd_u32(&d->r);
    if (kind > 2) {
        fail_at(d, off, "malformed data segment kind");
        return;
    }
    s->mode = kind == 1 ? WH_SEG_PASSIVE : WH_SEG_ACTIVE;
    if (kind == 2)
        s->memory = wh_rd_u32(&d->r);
    if (kind != 1)
        s->offset = read_expr(d);
    s->len = wh_rd_u32(&d->r);
    s->off = (uint32_t)here(d);
    read_raw(d, s->len, "unexpected end of section or function");
}

static void sec_data(dec *d)
{
    wharf_module *m = d->m;
    d->data_count_off = here(d);
    m->ndatas = read_count(d);
    m->datas = alloc(d, m->ndatas, sizeof *m->datas);
    for (uint32_t i = 0; i < m->ndatas && !d->r.err; i++)
        read_data(d, &m->datas[i]);
}

/* A custom section's name; the `name` section's payload is kept for
 * read_name_section, run once the function index space is complete. */
static wh_str sec_custom(dec *d)
{
    wh_str name = read_name(d);
    if (!d->r.err && !d->names && name.len == 4 && !memcmp(name.ptr, "name", 4)) {
        d->names = d->r.p;
        d->names_len = remaining(d);
    }
    d->r.p = d->r.end;
    return name;
}

/* ---- The name section (spec 7.4) ----------------------------------------- */

static void names_module(dec *d)
{
    wh_str name = read_name(d);
    if (!d->r.err && d->r.p == d->r.end)
        d->m->name = name;
}

/* A name map: (funcidx, name) pairs with increasing indices. */
static void names_funcs(dec *d)
{
    wharf_module *m = d->m;
    uint32_t n = read_count(d);
    int64_t last = -1;
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        uint32_t idx = wh_rd_u32(&d->r);
        wh_str name = read_name(d);
        if (d->r.err || idx <= last)
            return;
        if (idx < m->nfuncs)
            m->funcs[idx].name = name;
        last = idx;
    }
}

/* Reads the subsections we use (module and function names) and skips the
 * others. A custom section never makes a module malformed, so the first
 * problem just ends the reading; names read before it are kept. */
static void read_name_section(dec *d)
{
    wh_reader saved = d->r;
    d->r = (wh_reader){ .base = saved.base, .p = d->names,
                        .end = d->names + d->names_len };
    int last_id = -1;
    while (!d->r.err && d->r.p < d->r.end) {
        uint8_t id = wh_rd_u8(&d->r);
        uint32_t size = wh_rd_u32(&d->r);
        if (d->r.err || size > remaining(d) || id <= last_id)
            break;
        const uint8_t *outer_end = d->r.end;
        d->r.end = d->r.p + size;
        if (id == 0)
            names_module(d);
        else if (id == 1)
            names_funcs(d);
        if (d->r.err)
            break;
        d->r.p = d->r.end;
        d->r.end = outer_end;
        last_id = id;
    }
    d->r = saved;
}

/* ---- Module framing (spec 5.5.15-16) ------------------------------------- */

/* Records a section for `wharf inspect`: off and size cover its contents,
 * after the id and size fields. The table doubles as it fills. */
static void note_section(dec *d, uint8_t id, size_t off, uint32_t size,
                         wh_str custom_name)
{
    wharf_module *m = d->m;
    if (m->nsections == d->sections_cap) {
        uint32_t cap = d->sections_cap ? 2 * d->sections_cap : 16;
        struct wh_section *s = alloc(d, cap, sizeof *s);
        if (!s)
            return;
        if (m->nsections)
            memcpy(s, m->sections, m->nsections * sizeof *s);
        m->sections = s;
        d->sections_cap = cap;
    }
    m->sections[m->nsections++] = (struct wh_section){
        id, (uint32_t)off, size, custom_name };
}

static wh_str read_section_body(dec *d, uint8_t id)
{
    wh_str none = { "", 0 };
    switch (id) {
    case WH_SEC_CUSTOM: return sec_custom(d);
    case WH_SEC_TYPE: sec_type(d); break;
    case WH_SEC_IMPORT: sec_import(d); break;
    case WH_SEC_FUNCTION: sec_function(d); break;
    case WH_SEC_TABLE: sec_table(d); break;
    case WH_SEC_MEMORY: sec_memory(d); break;
    case WH_SEC_GLOBAL: sec_global(d); break;
    case WH_SEC_EXPORT: sec_export(d); break;
    case WH_SEC_START: sec_start(d); break;
    case WH_SEC_ELEMENT: sec_element(d); break;
    case WH_SEC_DATACOUNT: sec_datacount(d); break;
    case WH_SEC_CODE: sec_code(d); break;
    case WH_SEC_DATA: sec_data(d); break;
    }
    return none;
}

/* Known sections come at most once each, in this order (datacount sits
 * between element and code); custom sections may appear anywhere. */
static bool in_order(dec *d, uint8_t id)
{
    static const uint8_t rank[] = {
        [WH_SEC_TYPE] = 1, [WH_SEC_IMPORT] = 2, [WH_SEC_FUNCTION] = 3,
        [WH_SEC_TABLE] = 4, [WH_SEC_MEMORY] = 5, [WH_SEC_GLOBAL] = 6,
        [WH_SEC_EXPORT] = 7, [WH_SEC_START] = 8, [WH_SEC_ELEMENT] = 9,
        [WH_SEC_DATACOUNT] = 10, [WH_SEC_CODE] = 11, [WH_SEC_DATA] = 12,
    };
    if (id == WH_SEC_CUSTOM)
        return true;
    if (rank[id] <= d->last_rank)
        return false;
    d->last_rank = rank[id];
    return true;
}

static void read_section(dec *d)
{
    size_t id_off = here(d);
    uint8_t id = wh_rd_u8(&d->r);
    if (id > WH_SEC_DATACOUNT) {
        fail_at(d, id_off, "malformed section id");
        return;
    }
    size_t size_off = here(d);
    uint32_t size = wh_rd_u32(&d->r);
    if (size > remaining(d))
        fail_at(d, size_off, "length out of bounds");
    if (!in_order(d, id))
        fail_at(d, id_off, "unexpected content after last section");
    if (d->r.err)
        return;
    size_t off = here(d);
    const uint8_t *module_end = d->r.end;
    d->r.end = d->r.p + size;
    wh_str custom_name = read_section_body(d, id);
    if (d->r.p != d->r.end)
        fail_at(d, here(d), "section size mismatch");
    d->r.end = module_end;
    note_section(d, id, off, size, custom_name);
}

static void read_header(dec *d)
{
    static const uint8_t magic[4] = { 0x00, 'a', 's', 'm' };
    static const uint8_t version[4] = { 0x01, 0x00, 0x00, 0x00 };
    const uint8_t *p = read_raw(d, 4, "unexpected end");
    if (p && memcmp(p, magic, 4) != 0)
        fail_at(d, 0, "magic header not detected");
    p = read_raw(d, 4, "unexpected end");
    if (p && memcmp(p, version, 4) != 0)
        fail_at(d, 4, "unknown binary version");
}

/* Checks that need every section seen: counts that must agree. */
static void check_counts(dec *d)
{
    wharf_module *m = d->m;
    if (!d->has_code && m->nfuncs != m->nfunc_imports)
        fail_at(d, m->len, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        fail_at(d, d->data_count_off,
                "data count and data section have inconsistent lengths");
}

wharf_status wh_dec_module(wharf_module *m, wharf_error *err)
{
    if (m->len > UINT32_MAX)   /* offsets in the module are 32-bit */
        return wh_error_set(err, WHARF_ERR_MALFORMED, 0, "module too large");
    dec d = { .m = m, .data_count_off = m->len };
    d.r = (wh_reader){ .base = m->bytes, .p = m->bytes, .end = m->bytes + m->len };
    read_header(&d);
    while (!d.r.err && d.r.p < d.r.end)
        read_section(&d);
    check_counts(&d);
    if (d.nomem)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    if (d.r.err)
        return wh_error_set(err, WHARF_ERR_MALFORMED, d.r.err_off, "%s", d.r.err);
    if (d.names)
        read_name_section(&d);
    return WHARF_OK;
}
