/* compile.c: turns validated function bodies into the internal code that
 * interp.c runs (interpInt.h, iops.def). One pass per function.
 *
 * Owns the compile-time operand stack, the control stack, branch patching,
 * the frame layout of each function and the trap-site table. Reads the
 * module; writes only funcs[i].compiled and the module arena. The input is
 * valid (validate.c ran first), so nothing here re-checks types or indices.
 *
 * How operands become slots: every wasm stack position has a fixed "home"
 * slot in the frame's operand area. An entry on the compile-time stack is
 * TEMP (its value is in its home), LOCAL (the value is still in a local's
 * slot: `local.get` emits nothing) or CONST (the value is known: `*.const`
 * emits nothing). Instructions name these slots directly, so
 *   local.get a; local.get b; i32.add; local.set c
 * becomes one `i32.add c <- a, b`: the add is emitted with the TEMP home as
 * its destination, and the local.set that follows retargets it. Constants
 * feed immediate forms (`i32.add d <- a, imm`); elsewhere they are written
 * to their home first. An i32.add of locals and constants is deferred too,
 * so that a load or store uses it as its address (base + index + offset in
 * one instruction).
 *
 * Superinstructions: the instruction just emitted may be taken back and
 * fused with its consumer when nothing else reads its result: compare +
 * br_if/if, i32.add + load (base + index), i32.add + compare + br_if at a
 * loop's back edge, f64.mul + add/sub, an f64 op + f64.store, shift or
 * logic op + logic op, store of a constant, pairs of moves or of adds. The
 * pairs were chosen by counting executed instruction pairs over the
 * shared benchmarks.
 *
 * Fuel: a function's entry and each loop back edge charge a static cost
 * (the wasm instructions of that segment; a loop's first iteration is
 * charged to the segment around it), so `ticks` moves once per iteration.
 *
 * Invariants that keep deferred entries correct:
 *  - a local.set/tee first materializes every entry reading that local;
 *  - at block/loop/if entry every entry reading a local is materialized, so
 *    all paths that meet at a label agree on where each value is (CONST
 *    entries are immutable and may stay);
 *  - at a label, values that the label carries are in their homes, and the
 *    peephole state is reset so no instruction before a label is rewritten.
 *
 * Unreachable code (after br, br_table, return, unreachable) is skipped up
 * to the matching else/end, so the polymorphic stack never has to be
 * modelled.
 */
#include "interpInt.h"

#include <string.h>

#define NONE UINT32_MAX

/* Where an entry's value is: in its home, in a local, known, or an i32
 * sum not computed yet (slot a + imm k, or slot a + slot k), which a load
 * or store folds into its address. A deferred sum reads only locals and
 * its own home, so the rules for LOCAL entries keep it valid. */
enum { E_TEMP, E_LOCAL, E_CONST, E_ADDI, E_ADDR };

typedef struct entry {
    uint8_t kind, type, nslots;
    uint32_t home;         /* its fixed slot in the operand area */
    uint32_t local;        /* E_LOCAL: the local's slot; E_ADD*: slot a */
    uint64_t k;            /* E_CONST: the bits; E_ADDI: imm; E_ADDR: slot */
} entry;

enum { F_BLOCK, F_LOOP, F_IF, F_ELSE, F_FUNC };

typedef struct frame {
    uint8_t kind;
    bool dead;             /* the rest of this block is unreachable */
    bool reached;          /* something reaches the end label */
    uint32_t height;       /* stack entries below the block's own values */
    uint32_t np, nr;
    const uint8_t *params, *results;
    uint32_t label;        /* loop: pc of the header */
    uint32_t chain;        /* forward branches to the end: last unit + 1 */
    uint32_t else_at;      /* if: the false branch's offset unit */
    uint32_t cost_chain;   /* loop: back edges' cost units, as a chain */
    uint32_t cost;         /* loop/func: wasm instructions in the segment */
    uint32_t outer_cost;   /* the enclosing loop/func frame */
} frame;

/* The compare just emitted, for fusion with br_if/if. */
typedef struct cond {
    uint8_t kind;          /* COND_* */
    bool imm;              /* b is an immediate */
    uint32_t a;
    uint64_t b;
} cond;

typedef struct comp {
    wharf_module *m;
    const wh_allocator *al;
    void *const *h;        /* handler addresses */
    wh_reader r;
    bool nomem;
    uint32_t off;          /* module offset of the current instruction */

    uint32_t *code; uint32_t ncode, capcode;
    entry *stk; uint32_t nstk, capstk;
    frame *ctl; uint32_t nctl, capctl;
    wh_trapsite *sites; uint32_t nsites, capsites;
    struct local { uint32_t slot; uint8_t type; bool written; } *locals;
    uint32_t caplocals;
    bool entry_path;       /* no label yet: unwritten locals are still 0 */
    uint32_t *tmp; uint32_t captmp;       /* br_table scratch */
    entry junk;            /* push target after an allocation failure */

    const wh_functype *type;
    uint32_t result_slots, local_slots, rec, temp0, maxslot;
    uint32_t cost_frame;   /* index of the innermost loop/func frame */
    uint32_t dead_depth;   /* nesting inside skipped code */
    int32_t func_cost;

    /* Peephole state, valid only while ncode equals the recorded end. */
    uint32_t prev_at;      /* start of the last instruction; NONE at labels */
    uint32_t prev2_at;     /* and of the one before it, or NONE */
    uint32_t last_end, last_dst;
    uint32_t lc_end, lc_at, lc_dst, lc_prev;
    cond lc;
} comp;

/* ---- Tables derived from iops.def --------------------------------------- */

enum {
    COND_NZ32, COND_Z32, COND_NZ64, COND_Z64,
#define CMP(name, inv, w) COND_##name,
#include "iops.def"
    COND_COUNT_
};
#define COND_CMP0 COND_I32_EQ   /* conditions from here on have two operands */

static const uint8_t cond_inv[COND_COUNT_] = {
    [COND_NZ32] = COND_Z32, [COND_Z32] = COND_NZ32,
    [COND_NZ64] = COND_Z64, [COND_Z64] = COND_NZ64,
#define CMP(name, inv, w) [COND_##name] = COND_##inv,
#include "iops.def"
};

/* [cond][imm][backward to a loop] */
static const uint16_t cond_br[COND_COUNT_][2][2] = {
    [COND_NZ32] = { { WH_IOP_BR_NZ32, WH_IOP_BR_NZ32_L } },
    [COND_Z32] = { { WH_IOP_BR_Z32, WH_IOP_BR_Z32_L } },
    [COND_NZ64] = { { WH_IOP_BR_NZ64, WH_IOP_BR_NZ64_L } },
    [COND_Z64] = { { WH_IOP_BR_Z64, WH_IOP_BR_Z64_L } },
#define CMP(name, inv, w) [COND_##name] = {                                 \
        { WH_IOP_BR_##name, WH_IOP_BR_##name##_L },                      \
        { WH_IOP_BR_##name##_I, WH_IOP_BR_##name##_I_L } },
#include "iops.def"
};

/* wasm op -> internal op + 1 (0: none), per form. */
static const uint16_t unop_iop[WH_OP_COUNT_] = {
#define UNOP(name) [WH_OP_##name] = WH_IOP_##name + 1,
#include "iops.def"
};
static const uint16_t binop_iop[WH_OP_COUNT_] = {
#define BINOP(name) [WH_OP_##name] = WH_IOP_##name + 1,
#define BINOPI(name, w) BINOP(name)
#define CMP(name, inv, w) BINOP(name)
#include "iops.def"
};
static const uint16_t binopi_iop[WH_OP_COUNT_] = {
#define BINOPI(name, w) [WH_OP_##name] = WH_IOP_##name##_I + 1,
#define CMP(name, inv, w) BINOPI(name, w)
#include "iops.def"
};
static const uint16_t divi_iop[WH_OP_COUNT_] = {
#define DIVI(name, w) [WH_OP_##name] = WH_IOP_##name##_I + 1,
#include "iops.def"
};
static const uint8_t cmp_cond[WH_OP_COUNT_] = {
#define CMP(name, inv, w) [WH_OP_##name] = COND_##name + 1,
#include "iops.def"
};
static const uint16_t mem_iop[WH_OP_COUNT_] = {
#define LOAD(name, t, n) [WH_OP_##name] = WH_IOP_##name + 1,
#define STORE(name, t, n) LOAD(name, t, n)
#include "iops.def"
};
/* Stores of an immediate value: [op][plain, AA, AI] */
static const uint16_t store_k[WH_OP_COUNT_][3] = {
#define STORE(name, t, n) [WH_OP_##name] = { WH_IOP_##name##_K, WH_IOP_##name##_AA_K, \
                                             WH_IOP_##name##_AI_K },
#include "iops.def"
};
/* A loop's add and compare-and-branch fused: [cond][add imm][compare imm] */
static const uint16_t inc_br[COND_COUNT_][2][2] = {
    [COND_NZ32] = { { WH_IOP_INC_R_NZ32, WH_IOP_INC_R_NZ32 },
                    { WH_IOP_INC_I_NZ32, WH_IOP_INC_I_NZ32 } },
#define INCBR(name) [COND_##name] = { { WH_IOP_INC_RR_##name, WH_IOP_INC_RI_##name }, \
                                      { WH_IOP_INC_IR_##name, WH_IOP_INC_II_##name } },
#include "iops.def"
};
/* An i32 op (a shift by a constant, or a logic op or add) fused with the
 * op consuming its result. */
static const struct { uint16_t first, wop, fused; } pairs[] = {
#define SHOP(shift, op) { WH_IOP_##shift, WH_OP_##op, WH_IOP_##shift##_##op },
#define PAIR(p, c) { WH_IOP_##p, WH_OP_##c, WH_IOP_##p##_##c },
#include "iops.def"
};
/* Two shifts by constants and the xor/or of their results. */
static const struct { uint16_t a, b, wop, fused; } sh2s[] = {
#define SH2(a, b, op) { WH_IOP_I32_##a##_I, WH_IOP_I32_##b##_I, WH_OP_I32_##op, \
                        WH_IOP_SH2_##a##_##b##_##op },
#include "iops.def"
};
/* f64 ops whose result a store may take straight to memory. */
static const struct { uint16_t iop, units, fused; } stored[] = {
#define FST(name, n) { WH_IOP_##name, 2 + n + 1, WH_IOP_##name##_ST },
#include "iops.def"
};
/* A load whose value only a store takes: [store op, load AI form, copy] */
static const struct { uint16_t store, load, copy; } copies[] = {
#define COPY(name, load, store, t) { WH_OP_##store, WH_IOP_##load##_AI, WH_IOP_##name },
#include "iops.def"
};
/* Loads from a scaled index (after a fused shift-and-add). */
static const uint16_t load_sx[WH_OP_COUNT_] = {
#define LOADSX(name) [WH_OP_##name] = WH_IOP_##name##_SX + 1,
#include "iops.def"
};
/* Loads and stores with the address add fused: [op][imm] */
static const uint16_t addr_fused[WH_OP_COUNT_][2] = {
#define LOAD(name, t, n) [WH_OP_##name] = { WH_IOP_##name##_AA, WH_IOP_##name##_AI },
#define STORE(name, t, n) LOAD(name, t, n)
#include "iops.def"
};

/* The op computing the same with its operands swapped, or -1. */
static int swapped(int op)
{
    switch (op) {
    case WH_OP_I32_ADD: case WH_OP_I32_MUL: case WH_OP_I32_AND:
    case WH_OP_I32_OR: case WH_OP_I32_XOR: case WH_OP_I32_EQ: case WH_OP_I32_NE:
    case WH_OP_I64_ADD: case WH_OP_I64_MUL: case WH_OP_I64_AND:
    case WH_OP_I64_OR: case WH_OP_I64_XOR: case WH_OP_I64_EQ: case WH_OP_I64_NE:
    case WH_OP_F64_ADD: case WH_OP_F64_MUL:
        return op;
    case WH_OP_I32_LT_S: return WH_OP_I32_GT_S;
    case WH_OP_I32_LT_U: return WH_OP_I32_GT_U;
    case WH_OP_I32_GT_S: return WH_OP_I32_LT_S;
    case WH_OP_I32_GT_U: return WH_OP_I32_LT_U;
    case WH_OP_I32_LE_S: return WH_OP_I32_GE_S;
    case WH_OP_I32_LE_U: return WH_OP_I32_GE_U;
    case WH_OP_I32_GE_S: return WH_OP_I32_LE_S;
    case WH_OP_I32_GE_U: return WH_OP_I32_LE_U;
    case WH_OP_I64_LT_S: return WH_OP_I64_GT_S;
    case WH_OP_I64_LT_U: return WH_OP_I64_GT_U;
    case WH_OP_I64_GT_S: return WH_OP_I64_LT_S;
    case WH_OP_I64_GT_U: return WH_OP_I64_LT_U;
    case WH_OP_I64_LE_S: return WH_OP_I64_GE_S;
    case WH_OP_I64_LE_U: return WH_OP_I64_GE_U;
    case WH_OP_I64_GE_S: return WH_OP_I64_LE_S;
    case WH_OP_I64_GE_U: return WH_OP_I64_LE_U;
    default: return -1;
    }
}

/* ---- Buffers and emission ----------------------------------------------- */

/* Makes room for `need` elements in a scratch vector; false (and nomem
 * set) when the allocator fails. */
static bool reserve(comp *c, void **p, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return true;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = wh_realloc(c->al, *p, (size_t)n * size);
    if (!q) {
        c->nomem = true;
        return false;
    }
    *p = q;
    *cap = n;
    return true;
}
#define RESERVE(c, v, capv, need) \
    reserve(c, (void **)&(c)->v, &(c)->capv, need, sizeof(*(c)->v))

static void put(comp *c, uint32_t u)
{
    if (RESERVE(c, code, capcode, c->ncode + 1))
        c->code[c->ncode++] = u;
}

static void patch(comp *c, uint32_t at, uint32_t v)
{
    if (at < c->ncode)
        c->code[at] = v;
}

static void put_ptr(comp *c, const void *p)
{
    uint64_t v = (uint64_t)(uintptr_t)p;
    put(c, (uint32_t)v);
    put(c, (uint32_t)(v >> 32));
}

/* Starts an instruction; returns its pc. Forgets the peephole state:
 * only the instruction emitted last may be rewritten. */
static uint32_t op(comp *c, int iop)
{
    uint32_t at = c->ncode;
    c->last_end = c->lc_end = NONE;
    c->prev2_at = c->prev_at;
    c->prev_at = at;
    put_ptr(c, c->h[iop]);
    return at;
}

/* Takes the last instruction back (to fuse it into the next one). */
static void take_back(comp *c)
{
    c->ncode = c->prev_at;
    c->prev_at = c->prev2_at;
    c->prev2_at = NONE;
}

/* Whether the last instruction is `iop`, `units` long and not behind a
 * label, so that it may be rewritten. */
static bool prev_is(const comp *c, int iop, uint32_t units)
{
    void *h;
    if (c->prev_at == NONE || c->prev_at + units != c->ncode)
        return false;
    memcpy(&h, c->code + c->prev_at, sizeof h);
    return h == c->h[iop];
}

/* Records that the instruction at `at` may trap, for trap offsets. */
static void site(comp *c, uint32_t at)
{
    if (RESERVE(c, sites, capsites, c->nsites + 1))
        c->sites[c->nsites++] = (wh_trapsite){ at, c->off };
}

/* Marks the instruction just emitted as one whose destination unit `dst`
 * a following local.set/tee may retarget. */
static void retargetable(comp *c, uint32_t dst)
{
    c->last_dst = dst;
    c->last_end = c->ncode;
}

/* Places a label here: nothing before it may be rewritten any more. */
static void label_here(comp *c)
{
    c->last_end = c->lc_end = c->prev_at = c->prev2_at = NONE;
    c->entry_path = false;
}


/* ---- The compile-time operand stack ------------------------------------- */

static uint32_t next_home(const comp *c)
{
    if (!c->nstk)
        return c->temp0;
    const entry *t = &c->stk[c->nstk - 1];
    return t->home + t->nslots;
}

static entry *push(comp *c, uint8_t type)
{
    uint32_t home = next_home(c);
    if (!RESERVE(c, stk, capstk, c->nstk + 1))
        return &c->junk;
    entry *e = &c->stk[c->nstk++];
    *e = (entry){ E_TEMP, type, (uint8_t)wh_valtype_slots(type), home, 0, 0 };
    if (home + e->nslots > c->maxslot)
        c->maxslot = home + e->nslots;
    return e;
}

static entry pop(comp *c)
{
    if (WH_NEVER(c->nstk == 0))
        return (entry){ E_CONST, WH_I32, 1, c->temp0, 0, 0 };
    return c->stk[--c->nstk];
}

static void const_to(comp *c, uint32_t dst, uint64_t k)
{
    if (k <= UINT32_MAX) {
        op(c, WH_IOP_CONST32);
        put(c, dst);
        put(c, (uint32_t)k);
    } else {
        op(c, WH_IOP_CONST64);
        put(c, dst);
        put(c, (uint32_t)k);
        put(c, (uint32_t)(k >> 32));
    }
}

/* When the instruction just emitted is a run of moves, makes room for one
 * more at its end (MOV -> MOV_MOV -> MOVN) and returns true. */
static bool join_move(comp *c)
{
    uint32_t at = c->prev_at, m[4];
    if (prev_is(c, WH_IOP_MOV, 4)) {
        c->ncode = at;
        put_ptr(c, c->h[WH_IOP_MOV_MOV]);
        c->ncode = at + 4;
    } else if (prev_is(c, WH_IOP_MOV_MOV, 6)) {
        memcpy(m, c->code + at + 2, sizeof m);
        c->ncode = at;
        put_ptr(c, c->h[WH_IOP_MOVN]);
        put(c, 3);
        for (int i = 0; i < 4; i++)
            put(c, m[i]);
    } else if (at != NONE && at + 2 < c->ncode &&
               at + 3 + 2 * (uint64_t)c->code[at + 2] == c->ncode &&
               prev_is(c, WH_IOP_MOVN, c->ncode - at)) {
        c->code[at + 2]++;
    } else {
        return false;
    }
    c->prev_at = at;
    return true;
}

/* Emits code writing e's value to slot dst (nothing if already there).
 * Leaves e as it is: used on branch paths the fallthrough doesn't see. */
static void move_to(comp *c, uint32_t dst, const entry *e)
{
    if (e->kind == E_CONST) {
        const_to(c, dst, e->k);
        return;
    }
    if (e->kind == E_ADDI && prev_is(c, WH_IOP_I32_ADD_I, 5)) {
        uint32_t at = c->prev_at;         /* two adds in one dispatch */
        c->ncode = at;
        put_ptr(c, c->h[WH_IOP_ADDI_ADDI]);
        c->ncode = at + 5;
        c->prev_at = at;
        put(c, dst);
        put(c, e->local);
        put(c, (uint32_t)e->k);
        retargetable(c, at + 5);
        return;
    }
    if (e->kind == E_ADDI || e->kind == E_ADDR) {
        uint32_t at = op(c, e->kind == E_ADDI ? WH_IOP_I32_ADD_I : WH_IOP_I32_ADD);
        put(c, dst);
        put(c, e->local);
        put(c, (uint32_t)e->k);
        retargetable(c, at + 2);
        return;
    }
    uint32_t src = e->kind == E_LOCAL ? e->local : e->home;
    if (src == dst)
        return;
    if (e->nslots == 1 && join_move(c))
        ;                                /* several moves in one dispatch */
    else
        op(c, e->nslots == 2 ? WH_IOP_MOV2 : WH_IOP_MOV);
    put(c, dst);
    put(c, src);
}

static void materialize(comp *c, entry *e)
{
    if (e->kind != E_TEMP) {
        move_to(c, e->home, e);
        e->kind = E_TEMP;
    }
}

/* The slot holding e's value; a constant or a deferred sum is first
 * written to its home. */
static uint32_t slot_of(comp *c, entry *e)
{
    if (e->kind != E_LOCAL)
        materialize(c, e);
    return e->kind == E_LOCAL ? e->local : e->home;
}

/* Whether e reads slot s (a local) to produce its value. */
static bool reads_slot(const entry *e, uint32_t s)
{
    return ((e->kind == E_LOCAL || e->kind == E_ADDI || e->kind == E_ADDR) &&
            e->local == s) || (e->kind == E_ADDR && e->k == s);
}

/* Whether e reads a local below slot `limit`. */
static bool reads_below(const entry *e, uint32_t limit)
{
    return ((e->kind == E_LOCAL || e->kind == E_ADDI || e->kind == E_ADDR) &&
            e->local < limit) || (e->kind == E_ADDR && e->k < limit);
}

/* Block entry: values still read from locals move to their homes, so
 * every path into a label agrees on where they are. */
static void materialize_locals(comp *c)
{
    for (uint32_t i = 0; i < c->nstk; i++)
        if (c->stk[i].kind != E_TEMP && c->stk[i].kind != E_CONST)
            materialize(c, &c->stk[i]);
}

static void materialize_top(comp *c, uint32_t n)
{
    for (uint32_t i = c->nstk - n; i < c->nstk; i++)
        materialize(c, &c->stk[i]);
}

/* If the instruction just emitted produced e, makes it write `dst`
 * instead and returns true. */
static bool retarget(comp *c, const entry *e, uint32_t dst)
{
    if (e->kind != E_TEMP || c->last_end != c->ncode || c->code[c->last_dst] != e->home)
        return false;
    c->code[c->last_dst] = dst;
    c->last_end = c->lc_end = NONE;
    return true;
}

/* ---- Branches ----------------------------------------------------------- */

static frame *frame_at(comp *c, uint32_t depth)
{
    return &c->ctl[c->nctl - 1 - depth];
}

/* The values a branch to f carries: a loop's parameters, else results. */
static uint32_t arity(const frame *f)
{
    return f->kind == F_LOOP ? f->np : f->nr;
}

/* The home of f's first value (where its label expects value 0). */
static uint32_t base_home(const comp *c, const frame *f)
{
    if (!f->height)
        return c->temp0;
    const entry *e = &c->stk[f->height - 1];
    return e->home + e->nslots;
}

/* Whether the top values are not yet where f's label expects them. */
static bool needs_moves(const comp *c, const frame *f)
{
    uint32_t n = arity(f), dst = base_home(c, f);
    for (uint32_t i = c->nstk - n; i < c->nstk; i++) {
        const entry *e = &c->stk[i];
        if (e->kind != E_TEMP || e->home != dst)
            return true;
        dst += e->nslots;
    }
    return false;
}

/* Moves the top n values to f's homes. In stack order this is safe: a
 * destination is never above its source, and never the home of a value
 * still to be read. */
static void emit_moves(comp *c, const frame *f, uint32_t n)
{
    uint32_t dst = base_home(c, f);
    for (uint32_t i = c->nstk - n; i < c->nstk; i++) {
        move_to(c, dst, &c->stk[i]);
        dst += c->stk[i].nslots;
    }
}

/* A branch offset: the byte distance from the offset unit `at` to pc `to`
 * (interp.c adds it to the unit's address, in one instruction). */
static uint32_t rel(uint32_t to, uint32_t at)
{
    return (to - at) * (uint32_t)sizeof(uint32_t);
}

/* Adds the offset unit `at` to f's chain of forward branches. */
static void link_at(comp *c, frame *f, uint32_t at)
{
    patch(c, at, f->chain);
    f->chain = at + 1;
    f->reached = true;
}

/* Appends a back edge's cost unit, filled in at the loop's end. */
static void loop_cost(comp *c, frame *f)
{
    uint32_t at = c->ncode;
    put(c, f->cost_chain);
    f->cost_chain = at + 1;
}

/* Points every branch in f's chain at pc `to`. */
static void resolve(comp *c, frame *f, uint32_t to)
{
    uint32_t p = f->chain;
    while (p && !c->nomem) {
        uint32_t at = p - 1;
        p = c->code[at];
        c->code[at] = rel(to, at);
    }
    f->chain = 0;
}

/* return: the results to fp[0..], then the record. A result still in a
 * local that a result slot would overwrite goes through its home first. */
static void emit_return(comp *c)
{
    uint32_t n = c->type->nresults;
    const entry *top = n == 1 ? &c->stk[c->nstk - 1] : NULL;
    if (top && top->nslots == 1 && (top->kind == E_TEMP || top->kind == E_LOCAL)) {
        op(c, WH_IOP_RET1);
        put(c, top->kind == E_LOCAL ? top->local : top->home);
        put(c, c->rec);
        return;
    }
    if (top && (top->kind == E_ADDR || top->kind == E_ADDI)) {
        op(c, top->kind == E_ADDR ? WH_IOP_RET_ADD : WH_IOP_RET_ADDI);
        put(c, top->local);
        put(c, (uint32_t)top->k);
        put(c, c->rec);
        return;
    }
    uint32_t first = c->nstk - n, dst = 0;
    for (uint32_t i = first; i < c->nstk; i++) {
        entry *e = &c->stk[i];
        if (n > 1 && reads_below(e, c->result_slots))
            move_to(c, e->home, e);
    }
    for (uint32_t i = first; i < c->nstk; i++) {
        entry e = c->stk[i];
        if (n > 1 && reads_below(&e, c->result_slots))
            e.kind = E_TEMP;
        move_to(c, dst, &e);
        dst += e.nslots;
    }
    op(c, WH_IOP_RET);
    put(c, c->rec);
}

/* When the instruction just emitted is a run of moves, turns it into
 * MOVS_BR_L (the moves, then a back edge whose offset and cost follow)
 * and returns true. */
static bool moves_then_loop(comp *c)
{
    uint32_t at = c->prev_at, n;
    if (prev_is(c, WH_IOP_MOV, 4) || prev_is(c, WH_IOP_MOV_MOV, 6)) {
        n = (c->ncode - at - 2) / 2;      /* make room for the count */
        put(c, 0);
        if (c->nomem)
            return false;
        memmove(c->code + at + 3, c->code + at + 2, 2 * n * sizeof *c->code);
        c->code[at + 2] = n;
    } else if (!(at != NONE && at + 2 < c->ncode &&
                 at + 3 + 2 * (uint64_t)c->code[at + 2] == c->ncode &&
                 prev_is(c, WH_IOP_MOVN, c->ncode - at))) {
        return false;
    }
    uint32_t end = c->ncode;
    c->ncode = at;
    put_ptr(c, c->h[WH_IOP_MOVS_BR_L]);
    c->ncode = end;
    c->prev_at = at;
    return true;
}

/* An unconditional branch to f, carrying its values. */
static void emit_branch(comp *c, frame *f)
{
    if (f->kind == F_FUNC) {
        emit_return(c);
        return;
    }
    emit_moves(c, f, arity(f));
    if (f->kind == F_LOOP) {
        if (!moves_then_loop(c))
            op(c, WH_IOP_BR_L);
        put(c, rel(f->label, c->ncode));
        loop_cost(c, f);
    } else {
        op(c, WH_IOP_BR);
        uint32_t at = c->ncode;
        put(c, 0);
        link_at(c, f, at);
    }
}

/* Pops a branch condition: the compare just emitted is taken back and
 * fused into the branch; anything else branches on the value. */
static cond take_cond(comp *c)
{
    entry e = pop(c);
    if (e.kind == E_TEMP && c->lc_end == c->ncode && c->lc_dst == e.home) {
        c->ncode = c->lc_at;
        c->last_end = c->lc_end = NONE;
        c->prev_at = c->lc_prev;    /* still adjacent: see prev_is */
        c->prev2_at = NONE;
        return c->lc;
    }
    return (cond){ COND_NZ32, false, slot_of(c, &e), 0 };
}

/* Emits a branch on k (or on its negation) with a blank offset; returns
 * the offset unit. */
static uint32_t cond_branch(comp *c, cond k, bool negate, bool loop)
{
    uint8_t kind = negate ? cond_inv[k.kind] : k.kind;
    op(c, cond_br[kind][k.imm][loop]);
    put(c, k.a);
    if (kind >= COND_CMP0)
        put(c, (uint32_t)k.b);
    if (kind >= COND_I64_EQ && k.imm)
        put(c, (uint32_t)(k.b >> 32));
    uint32_t at = c->ncode;
    put(c, 0);
    return at;
}

/* When the instruction just emitted is an i32.add writing slot d (or a
 * pair of adds whose second does), takes that add back for fusion into
 * its consumer: its operands d, x, y go to opd and *imm says whether y is
 * an immediate. A first add of a pair is emitted again on its own. */
static bool take_add(comp *c, uint32_t d, uint32_t opd[3], bool *imm)
{
    uint32_t at = c->prev_at, first[3];
    bool pair = prev_is(c, WH_IOP_ADDI_ADDI, 8);
    *imm = pair || prev_is(c, WH_IOP_I32_ADD_I, 5);
    if ((!*imm && !prev_is(c, WH_IOP_I32_ADD, 5)) || c->code[at + (pair ? 5 : 2)] != d)
        return false;
    memcpy(opd, c->code + at + (pair ? 5 : 2), 3 * sizeof *opd);
    memcpy(first, c->code + at + 2, sizeof first);
    take_back(c);
    if (pair) {
        op(c, WH_IOP_I32_ADD_I);
        for (int i = 0; i < 3; i++)
            put(c, first[i]);
    }
    return true;
}

/* A loop's back edge on an i32 compare of the sum the instruction just
 * emitted (an i32.add) computed: one instruction for both. */
static bool fuse_inc(comp *c, cond k, frame *f)
{
    uint32_t add[3], at;
    bool ri;
    if (!(k.kind == COND_NZ32 || (k.kind >= COND_I32_EQ && k.kind <= COND_I32_GE_U)) ||
        !take_add(c, k.a, add, &ri))
        return false;
    op(c, inc_br[k.kind][ri][k.imm]);
    for (int i = 0; i < 3; i++)
        put(c, add[i]);
    if (k.kind != COND_NZ32)
        put(c, (uint32_t)k.b);
    at = c->ncode;
    put(c, rel(f->label, at));
    loop_cost(c, f);
    return true;
}

static void do_br_if(comp *c, uint32_t depth)
{
    cond k = take_cond(c);
    frame *f = frame_at(c, depth);
    if (f->kind == F_LOOP && !needs_moves(c, f) && fuse_inc(c, k, f))
        return;
    if (f->kind != F_FUNC && !needs_moves(c, f)) {
        bool loop = f->kind == F_LOOP;
        uint32_t at = cond_branch(c, k, false, loop);
        if (loop) {
            patch(c, at, rel(f->label, at));
            loop_cost(c, f);
        } else {
            link_at(c, f, at);
        }
        return;
    }
    /* Values must move first: skip over the moves when not taken. */
    uint32_t skip = cond_branch(c, k, true, false);
    emit_branch(c, f);
    patch(c, skip, rel(c->ncode, skip));
    label_here(c);
}

/* br_table: a jump table; targets that need moves, loop headers (which
 * must charge their cost) and returns get one stub each after it. */
static void do_br_table(comp *c)
{
    uint32_t n = wh_rd_u32(&c->r);
    if (!RESERVE(c, tmp, captmp, 2 * (n + 1)))
        return;
    for (uint32_t i = 0; i <= n; i++)
        c->tmp[i] = wh_rd_u32(&c->r);
    entry e = pop(c);
    uint32_t idx = slot_of(c, &e);
    op(c, WH_IOP_BR_TABLE);
    put(c, idx);
    put(c, n);
    uint32_t base = c->ncode, nstubs = 0;
    for (uint32_t i = 0; i <= n; i++)
        put(c, 0);
    uint32_t *stub_depth = c->tmp + n + 1;   /* and stub pcs, interleaved */
    for (uint32_t i = 0; i <= n && !c->nomem; i++) {
        frame *f = frame_at(c, c->tmp[i]);
        if (f->kind != F_FUNC && f->kind != F_LOOP && !needs_moves(c, f)) {
            link_at(c, f, base + i);
            continue;
        }
        uint32_t s = 0;
        while (s < nstubs && stub_depth[2 * s] != c->tmp[i])
            s++;
        if (s == nstubs && RESERVE(c, tmp, captmp, 2 * (n + 1) + 2 * nstubs + 2)) {
            stub_depth = c->tmp + n + 1;
            stub_depth[2 * s] = c->tmp[i];
            stub_depth[2 * s + 1] = c->ncode;
            nstubs++;
            emit_branch(c, frame_at(c, c->tmp[i]));
        }
        patch(c, base + i, rel(stub_depth[2 * s + 1], base + i));
    }
}

/* ---- Blocks ------------------------------------------------------------- */

/* Reads a blocktype (spec 5.4.1) into f's parameter and result types. A
 * single result type points at its byte in the module. */
static void read_blocktype(comp *c, frame *f)
{
    const uint8_t *p = c->r.p;
    int64_t bt = wh_rd_s33(&c->r);
    f->np = f->nr = 0;
    if (bt >= 0) {
        const wh_functype *t = &c->m->types[bt];
        f->np = t->nparams;
        f->params = t->params;
        f->nr = t->nresults;
        f->results = t->results;
    } else if (bt != -64) {
        f->nr = 1;
        f->results = p;
    }
}

static frame *push_frame(comp *c, uint8_t kind)
{
    if (!RESERVE(c, ctl, capctl, c->nctl + 1))
        return NULL;
    frame *f = &c->ctl[c->nctl++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    return f;
}

/* Pushes a control frame of `kind` with the signature read into `sig`,
 * its base below the parameters already on the stack. */
static frame *open_frame(comp *c, uint8_t kind, const frame *sig)
{
    frame *f = push_frame(c, kind);
    if (!f)
        return NULL;
    f->np = sig->np;
    f->params = sig->params;
    f->nr = sig->nr;
    f->results = sig->results;
    f->height = c->nstk - f->np;
    return f;
}

static void do_block(comp *c, uint8_t kind)
{
    frame tmp;
    read_blocktype(c, &tmp);
    materialize_locals(c);
    if (kind == F_LOOP)
        materialize_top(c, tmp.np);   /* back edges write these homes */
    frame *f = open_frame(c, kind, &tmp);
    if (!f)
        return;
    if (kind == F_LOOP) {
        f->label = c->ncode;
        label_here(c);
        f->outer_cost = c->cost_frame;
        c->cost_frame = c->nctl - 1;
    }
}

/* if: branch to the else part when the condition is false. The else part
 * needs the parameters too, so the then part works on copies of them. */
static void do_if(comp *c)
{
    frame tmp;
    read_blocktype(c, &tmp);
    cond k = take_cond(c);
    materialize_locals(c);
    materialize_top(c, tmp.np);
    frame *f = open_frame(c, F_IF, &tmp);
    if (!f)
        return;
    f->else_at = cond_branch(c, k, true, false);
    for (uint32_t i = 0; i < tmp.np; i++) {
        entry src = c->stk[f->height + i];
        entry *e = push(c, src.type);
        move_to(c, e->home, &src);
    }
}

/* Resets the stack to f's base and pushes `n` values of `types` there. */
static void reset_stack(comp *c, const frame *f, uint32_t n, const uint8_t *types)
{
    c->nstk = f->height;
    for (uint32_t i = 0; i < n; i++)
        push(c, types[i]);
}

static void do_else(comp *c)
{
    frame *f = frame_at(c, 0);
    if (!f->dead) {
        emit_moves(c, f, f->nr);
        op(c, WH_IOP_BR);
        uint32_t at = c->ncode;
        put(c, 0);
        link_at(c, f, at);
    }
    patch(c, f->else_at, rel(c->ncode, f->else_at));
    label_here(c);
    reset_stack(c, f, f->np, f->params);
    f->kind = F_ELSE;
    f->dead = false;
}

static void do_end(comp *c)
{
    frame *f = frame_at(c, 0);
    if (f->kind == F_FUNC) {
        if (!f->dead)
            emit_return(c);
        c->func_cost = (int32_t)f->cost;
        c->nctl--;
        return;
    }
    if (!f->dead) {
        emit_moves(c, f, f->nr);
        f->reached = true;
    }
    if (f->kind == F_IF) {            /* no else: false goes straight here */
        patch(c, f->else_at, rel(c->ncode, f->else_at));
        f->reached = true;
    }
    if (f->kind == F_LOOP) {
        /* Back edges charge each iteration; the enclosing segment pays
         * for the first. */
        for (uint32_t p = f->cost_chain; p && !c->nomem; ) {
            uint32_t at = p - 1;
            p = c->code[at];
            c->code[at] = f->cost;
        }
        c->ctl[f->outer_cost].cost += f->cost;
        c->cost_frame = f->outer_cost;
    }
    resolve(c, f, c->ncode);
    label_here(c);
    frame done = *f;
    c->nctl--;
    reset_stack(c, &done, done.nr, done.results);
    if (!done.reached)
        frame_at(c, 0)->dead = true;
}

/* ---- Instructions ------------------------------------------------------- */

/* Integer division and remainder: the binary ops that can trap. */
static bool binop_traps(int wop)
{
    switch (wop) {
    case WH_OP_I32_DIV_S: case WH_OP_I32_DIV_U: case WH_OP_I32_REM_S:
    case WH_OP_I32_REM_U: case WH_OP_I64_DIV_S: case WH_OP_I64_DIV_U:
    case WH_OP_I64_REM_S: case WH_OP_I64_REM_U:
        return true;
    default:
        return false;
    }
}

/* i32.add of a local or its own home (a) and a constant or a local (b):
 * pushed as a deferred sum instead of computed. A sum can absorb another
 * constant; the other home (b's) is reused by the next push, so b may
 * not be TEMP. */
static bool defer_add(comp *c, entry *a, entry *b, uint32_t dst)
{
    if (a->kind == E_TEMP && a->home != dst)
        return false;
    uint32_t as = a->kind == E_TEMP ? dst : a->local;
    uint8_t kind;
    uint64_t k;
    if (b->kind == E_CONST && (a->kind == E_TEMP || a->kind == E_LOCAL)) {
        kind = E_ADDI;
        k = (uint32_t)b->k;
    } else if (b->kind == E_CONST && a->kind == E_ADDI) {
        kind = E_ADDI;
        as = a->local;
        k = (uint32_t)(a->k + b->k);
    } else if (b->kind == E_LOCAL && (a->kind == E_TEMP || a->kind == E_LOCAL)) {
        kind = E_ADDR;
        k = b->local;
    } else {
        return false;
    }
    entry *e = push(c, WH_I32);
    e->kind = kind;
    e->local = as;
    e->k = k;
    return true;
}

/* The immediate form of wop for constant b (0: none): i64 immediates are
 * 64 bits; division only by constants that cannot trap. */
static int imm_form(int wop, uint64_t k)
{
    if (binopi_iop[wop])
        return binopi_iop[wop] - 1;
    bool is64 = wh_opinfo_table[wop].p1 == WH_I64;
    uint64_t minus1 = is64 ? UINT64_MAX : UINT32_MAX;   /* f64 has no DIVI */
    if (!divi_iop[wop] || (is64 ? k : (uint32_t)k) == 0)
        return -1;
    if ((wop == WH_OP_I32_DIV_S || wop == WH_OP_I32_REM_S || wop == WH_OP_I64_DIV_S ||
         wop == WH_OP_I64_REM_S) && (is64 ? k : (uint32_t)k) == minus1)
        return -1;
    return divi_iop[wop] - 1;
}

/* f64.add/sub of the f64.mul just emitted (its result entry consumed
 * here) and a value already in a slot: one instruction, still rounding
 * twice. The other value must not need a write, which could hit the
 * multiply's operands. */
static bool fuse_mul(comp *c, int wop, const entry *a, const entry *b, uint32_t dst)
{
    if (!prev_is(c, WH_IOP_F64_MUL, 5))
        return false;
    uint32_t at = c->prev_at, m = c->code[at + 2];
    bool ma = a->kind == E_TEMP && a->home == m, mb = b->kind == E_TEMP && b->home == m;
    const entry *z = ma ? b : a;
    if ((!ma && !mb) || (z->kind != E_TEMP && z->kind != E_LOCAL))
        return false;
    uint32_t x = c->code[at + 3], y = c->code[at + 4];
    take_back(c);
    int iop = wop == WH_OP_F64_ADD ? WH_IOP_F64_MULADD : ma ? WH_IOP_F64_MULSUB : WH_IOP_F64_SUBMUL;
    at = op(c, iop);
    put(c, dst);
    put(c, x);
    put(c, y);
    put(c, z->kind == E_LOCAL ? z->local : z->home);
    push(c, WH_F64);
    retargetable(c, at + 2);
    return true;
}

/* Whether m is the result of `first`: a deferred i32.add, or the
 * instruction just emitted. Sets first's two operands. */
static bool is_first(const comp *c, uint16_t first, const entry *m, uint32_t opd[2])
{
    if (first == WH_IOP_I32_ADD && m->kind == E_ADDR) {
        opd[0] = m->local;
        opd[1] = (uint32_t)m->k;
        return true;
    }
    if (m->kind != E_TEMP || !prev_is(c, first, 5) || c->code[c->prev_at + 2] != m->home)
        return false;
    memcpy(opd, c->code + c->prev_at + 3, 2 * sizeof *opd);
    return true;
}

/* Two shifts by constants whose results an i32 xor/or combines: z is the
 * first's result when that shift is now the last instruction; `second` is
 * the shift already taken back, with operands opd. */
static bool fuse_sh2(comp *c, uint16_t second, int wop, const uint32_t opd[2],
                     const entry *z, uint32_t dst)
{
    uint32_t i = 0, at = c->prev_at;
    while (i < WH_ARRAY_LEN(sh2s) && !(sh2s[i].b == second && sh2s[i].wop == wop &&
                                       prev_is(c, sh2s[i].a, 5)))
        i++;
    if (i == WH_ARRAY_LEN(sh2s) || z->kind != E_TEMP || c->code[at + 2] != z->home)
        return false;
    uint32_t x = c->code[at + 3], k = c->code[at + 4];
    take_back(c);
    at = op(c, sh2s[i].fused);
    put(c, dst);
    put(c, x);
    put(c, k);
    put(c, opd[0]);
    put(c, opd[1]);
    push(c, WH_I32);
    retargetable(c, at + 2);
    return true;
}

/* An i32 op on the result of another (see pairs[]) and a value already in
 * a slot: one instruction. */
static bool fuse_pair(comp *c, int wop, const entry *a, const entry *b, uint32_t dst)
{
    for (uint32_t i = 0; i < WH_ARRAY_LEN(pairs); i++) {
        for (int s = 0; s < 2 && pairs[i].wop == wop; s++) {
            const entry *m = s ? b : a, *z = s ? a : b;
            uint32_t opd[2];
            if ((z->kind != E_TEMP && z->kind != E_LOCAL) || !is_first(c, pairs[i].first, m, opd))
                continue;
            if (m->kind == E_TEMP) {
                take_back(c);                   /* the first op */
                if (fuse_sh2(c, pairs[i].first, wop, opd, z, dst))
                    return true;
            }
            uint32_t at = op(c, pairs[i].fused);
            put(c, dst);
            put(c, opd[0]);
            put(c, opd[1]);
            put(c, z->kind == E_LOCAL ? z->local : z->home);
            push(c, WH_I32);
            retargetable(c, at + 2);
            return true;
        }
    }
    return false;
}

/* d <- a op b, or the immediate form when b (or, swapped, a) is constant
 * (x - k becomes x + -k); an i32.add may be deferred instead. */
static void do_binop(comp *c, int wop)
{
    entry b = pop(c), a = pop(c);
    uint32_t dst = a.home;
    if (a.kind == E_CONST && b.kind != E_CONST && swapped(wop) >= 0) {
        entry t = a;
        a = b;
        b = t;
        wop = swapped(wop);
    }
    uint64_t k = b.k;
    if (b.kind == E_CONST && (wop == WH_OP_I32_SUB || wop == WH_OP_I64_SUB)) {
        wop = wop == WH_OP_I32_SUB ? WH_OP_I32_ADD : WH_OP_I64_ADD;
        k = b.k = 0 - b.k;
    }
    if (wop == WH_OP_I32_ADD && defer_add(c, &a, &b, dst))
        return;
    if ((wop == WH_OP_F64_ADD || wop == WH_OP_F64_SUB) && fuse_mul(c, wop, &a, &b, dst))
        return;
    if (fuse_pair(c, wop, &a, &b, dst))
        return;
    if (wop == WH_OP_I32_ROTR && b.kind == E_CONST) {   /* by a constant: rotl */
        wop = WH_OP_I32_ROTL;
        k = (32 - (k & 31)) & 31;
    }
    int iop = b.kind == E_CONST ? imm_form(wop, k) : -1;
    uint8_t t = wh_opinfo_table[wop].p1;
    bool imm = iop >= 0, is64 = t == WH_I64 || t == WH_F64;
    uint32_t as = slot_of(c, &a);
    uint32_t bs = imm ? (uint32_t)k : slot_of(c, &b);
    uint32_t before = c->prev_at;
    uint32_t at = op(c, imm ? iop : binop_iop[wop] - 1);
    if (binop_traps(wop) && !imm)
        site(c, at);
    put(c, dst);
    put(c, as);
    put(c, bs);
    if (imm && is64)
        put(c, (uint32_t)(k >> 32));
    push(c, wh_opinfo_table[wop].r);
    retargetable(c, at + 2);
    if (cmp_cond[wop]) {
        c->lc = (cond){ (uint8_t)(cmp_cond[wop] - 1), imm, as, imm ? k : bs };
        c->lc_at = at;
        c->lc_end = c->ncode;
        c->lc_dst = dst;
        c->lc_prev = before;
    }
}

static bool unop_traps(int wop)
{
    switch (wop) {
    case WH_OP_I32_TRUNC_F32_S: case WH_OP_I32_TRUNC_F32_U:
    case WH_OP_I32_TRUNC_F64_S: case WH_OP_I32_TRUNC_F64_U:
    case WH_OP_I64_TRUNC_F32_S: case WH_OP_I64_TRUNC_F32_U:
    case WH_OP_I64_TRUNC_F64_S: case WH_OP_I64_TRUNC_F64_U:
        return true;
    default:
        return false;
    }
}

/* d <- op a. An eqz is remembered for fusion with br_if/if. */
static void do_unop(comp *c, int wop)
{
    entry a = pop(c);
    uint32_t as = slot_of(c, &a);
    uint32_t at = op(c, unop_iop[wop] - 1);
    if (unop_traps(wop))
        site(c, at);
    put(c, a.home);
    put(c, as);
    push(c, wh_opinfo_table[wop].r);
    retargetable(c, at + 2);
    if (wop == WH_OP_I32_EQZ || wop == WH_OP_I64_EQZ) {
        c->lc_prev = NONE;
        c->lc = (cond){ wop == WH_OP_I32_EQZ ? COND_Z32 : COND_Z64, false, as, 0 };
        c->lc_at = at;
        c->lc_end = c->ncode;
        c->lc_dst = a.home;
    }
}

/* wrap and reinterpret change no bits a slot holds (an i32 ignores the
 * upper half), so they only retype the entry. */
static void retype(comp *c, uint8_t type)
{
    entry *e = &c->stk[c->nstk - 1];
    e->type = type;
    if (e->kind == E_CONST && type == WH_I32)
        e->k &= UINT32_MAX;
}

/* When the last instruction is the i32.add computing address a, takes it
 * back and returns its destination and operands, for a fused load. */
static bool take_address_add(comp *c, const entry *a, uint32_t opd[3], bool *imm)
{
    uint32_t slot = a->kind == E_TEMP ? a->home : a->kind == E_LOCAL ? a->local : NONE;
    return slot != NONE && take_add(c, slot, opd, imm);
}

static void do_load(comp *c, int wop)
{
    wh_rd_u32(&c->r);                      /* alignment: a hint */
    uint32_t offset = wh_rd_u32(&c->r), add[3], at;
    bool imm;
    entry a = pop(c);
    if (load_sx[wop] && a.kind == E_TEMP && prev_is(c, WH_IOP_I32_SHL_I_I32_ADD, 6) &&
        c->code[c->prev_at + 2] == a.home) {
        uint32_t sx[3];                    /* (x << k) + b, taken back */
        memcpy(sx, c->code + c->prev_at + 3, sizeof sx);
        take_back(c);
        at = op(c, load_sx[wop] - 1);
        put(c, a.home);
        for (int i = 0; i < 3; i++)
            put(c, sx[i]);
    } else if (a.kind == E_ADDI || a.kind == E_ADDR) {
        at = op(c, addr_fused[wop][a.kind == E_ADDI]);
        put(c, a.home);
        put(c, a.home);                    /* the sum is dead: s = d */
        put(c, a.local);
        put(c, (uint32_t)a.k);
    } else if (take_address_add(c, &a, add, &imm)) {
        at = op(c, addr_fused[wop][imm]);
        put(c, a.home);
        for (int i = 0; i < 3; i++)
            put(c, add[i]);
    } else {
        uint32_t as = slot_of(c, &a);
        at = op(c, mem_iop[wop] - 1);
        put(c, a.home);
        put(c, as);
    }
    site(c, at);
    put(c, offset);
    push(c, wh_opinfo_table[wop].r);
    retargetable(c, at + 2);
}

/* f64.store of the value the instruction just emitted computed, to an
 * address already in a slot: the op writes memory itself (see stored[]). */
static bool fuse_store(comp *c, const entry *v, const entry *a, uint32_t offset)
{
    uint32_t i = 0;
    while (i < WH_ARRAY_LEN(stored) && !prev_is(c, stored[i].iop, stored[i].units))
        i++;
    if (i == WH_ARRAY_LEN(stored) || v->kind != E_TEMP ||
        c->code[c->prev_at + 2] != v->home || (a->kind != E_TEMP && a->kind != E_LOCAL))
        return false;
    uint32_t at = c->prev_at, n = stored[i].units - 3, opd[3];
    memcpy(opd, c->code + at + 3, n * sizeof *opd);
    take_back(c);
    site(c, op(c, stored[i].fused));
    for (uint32_t k = 0; k < n; k++)
        put(c, opd[k]);
    put(c, a->kind == E_LOCAL ? a->local : a->home);
    put(c, offset);
    return true;
}

/* A store, to (a + imm) + off, of the value the load just emitted read
 * from (b + imm) + off, and nothing else reads: one copy instruction. It
 * keeps the load's trap site and adds the store's one unit in. */
static bool fuse_copy(comp *c, int wop, const entry *v, const entry *a, uint32_t offset)
{
    uint32_t i = 0, at = c->prev_at, ld[3];
    while (i < WH_ARRAY_LEN(copies) && copies[i].store != wop)
        i++;
    if (i == WH_ARRAY_LEN(copies) || a->kind != E_ADDI || v->kind != E_TEMP ||
        !prev_is(c, copies[i].load, 7) || c->code[at + 2] != v->home ||
        c->code[at + 3] != v->home)
        return false;
    memcpy(ld, c->code + at + 4, sizeof ld);
    take_back(c);
    op(c, copies[i].copy);
    site(c, at + 1);
    for (int k = 0; k < 3; k++)
        put(c, ld[k]);
    put(c, a->local);
    put(c, (uint32_t)a->k);
    put(c, offset);
    return true;
}

static void do_store(comp *c, int wop)
{
    wh_rd_u32(&c->r);
    uint32_t offset = wh_rd_u32(&c->r);
    entry v = pop(c), a = pop(c);
    if ((wop == WH_OP_F64_STORE && fuse_store(c, &v, &a, offset)) ||
        fuse_copy(c, wop, &v, &a, offset))
        return;
    bool wide = wop == WH_OP_I64_STORE || wop == WH_OP_F64_STORE;
    bool k = v.kind == E_CONST && (!wide || v.k == (uint64_t)(int64_t)(int32_t)v.k);
    uint32_t vs = k ? (uint32_t)v.k : slot_of(c, &v);
    int form = a.kind == E_ADDR ? 1 : a.kind == E_ADDI ? 2 : 0;
    uint32_t as = form ? a.local : slot_of(c, &a);
    int iop = k ? store_k[wop][form] : form ? addr_fused[wop][form == 2] : mem_iop[wop] - 1;
    site(c, op(c, iop));
    put(c, as);
    if (form)
        put(c, (uint32_t)a.k);
    put(c, vs);
    put(c, offset);
}

static void do_local_get(comp *c, uint32_t x)
{
    entry *e = push(c, c->locals[x].type);
    e->kind = E_LOCAL;
    e->local = c->locals[x].slot;
}

/* local.set/tee: entries still reading the local's old value are saved
 * first; then the producer of the value is retargeted at the local when
 * it was the last instruction, else the value is moved. */
static void do_local_set(comp *c, uint32_t x, bool tee)
{
    uint32_t ls = c->locals[x].slot;
    entry v = pop(c);
    /* Compilers zero locals that the frame set up already zeroed. */
    if (!tee && c->entry_path && !c->locals[x].written && x >= c->type->nparams &&
        v.kind == E_CONST && v.k == 0)
        return;
    c->locals[x].written = true;
    bool aliased = false, moved = false;
    for (uint32_t i = 0; i < c->nstk; i++)
        aliased |= reads_slot(&c->stk[i], ls);
    if (aliased) {
        for (uint32_t i = 0; i < c->nstk; i++)
            if (reads_slot(&c->stk[i], ls))
                materialize(c, &c->stk[i]);
    } else {
        moved = retarget(c, &v, ls);
    }
    if (!moved)
        move_to(c, ls, &v);
    if (!tee)
        return;
    entry *e = push(c, v.type);
    if (v.kind == E_CONST || v.kind == E_LOCAL || (v.kind == E_TEMP && !moved)) {
        e->kind = v.kind;
        e->local = v.local;
        e->k = v.k;
    } else {
        e->kind = E_LOCAL;
        e->local = ls;
    }
}

static void do_global_get(comp *c, uint32_t g)
{
    entry *e = push(c, c->m->globals[g].type.valtype);
    bool wide = e->nslots == 2;
    uint32_t at = op(c, wide ? WH_IOP_GLOBAL_GET2 : WH_IOP_GLOBAL_GET);
    put(c, e->home);
    put(c, g);
    if (!wide)
        retargetable(c, at + 2);
}

static void do_global_set(comp *c, uint32_t g)
{
    entry v = pop(c);
    uint32_t vs = slot_of(c, &v);
    op(c, v.nslots == 2 ? WH_IOP_GLOBAL_SET2 : WH_IOP_GLOBAL_SET);
    put(c, g);
    put(c, vs);
}

static void push_const(comp *c, uint8_t type, uint64_t k)
{
    entry *e = push(c, type);
    e->kind = E_CONST;
    e->k = k;
}

/* The top n values become a callee's parameters where they stand: they
 * are written to their homes and popped. Returns the callee's frame base. */
static uint32_t args_in_place(comp *c, uint32_t n)
{
    materialize_top(c, n);
    c->nstk -= n;
    return next_home(c);
}

static void push_results(comp *c, const wh_functype *t)
{
    for (uint32_t i = 0; i < t->nresults; i++)
        push(c, t->results[i]);
}

static void do_call(comp *c, uint32_t x)
{
    const wh_funcdecl *fd = &c->m->funcs[x];
    uint32_t base = args_in_place(c, fd->type->nparams);
    if (fd->import < 0) {
        site(c, op(c, WH_IOP_CALL));
        put(c, base);
        put_ptr(c, fd->compiled);
    } else {
        site(c, op(c, WH_IOP_CALL_IMPORT));
        put(c, base);
        put(c, x);
    }
    push_results(c, fd->type);
}

static void do_call_indirect(comp *c)
{
    uint32_t ti = wh_rd_u32(&c->r), table = wh_rd_u32(&c->r);
    entry i = pop(c);
    uint32_t is = slot_of(c, &i);
    const wh_functype *t = &c->m->types[ti];
    uint32_t base = args_in_place(c, t->nparams);
    site(c, op(c, WH_IOP_CALL_INDIRECT));
    put(c, base);
    put(c, ti);
    put(c, table);
    put(c, is);
    push_results(c, t);
}

static void do_select(comp *c)
{
    entry k = pop(c), b = pop(c), a = pop(c);
    uint32_t ks = slot_of(c, &k), bs = slot_of(c, &b), as = slot_of(c, &a);
    bool wide = a.nslots == 2;
    uint32_t at = op(c, wide ? WH_IOP_SELECT2 : WH_IOP_SELECT);
    put(c, a.home);
    put(c, ks);
    put(c, as);
    put(c, bs);
    push(c, a.type);
    if (!wide)
        retargetable(c, at + 2);
}

/* Pops n operands into slots, in stack order. */
static void pop_slots(comp *c, uint32_t n, uint32_t *out)
{
    while (n--) {
        entry e = pop(c);
        out[n] = slot_of(c, &e);
    }
}

/* Emits iop with immediates imm[0..ni) and then n popped operands; a
 * result of type `rtype` (0: none) goes to the first operand's home. */
static void emit_generic(comp *c, int iop, bool traps, const uint32_t *imm,
                         uint32_t ni, uint32_t n, uint8_t rtype)
{
    uint32_t s[4];
    pop_slots(c, n, s);
    uint32_t dst = next_home(c);
    uint32_t at = op(c, iop);
    if (traps)
        site(c, at);
    if (rtype)
        put(c, dst);
    for (uint32_t i = 0; i < ni; i++)
        put(c, imm[i]);
    for (uint32_t i = 0; i < n; i++)
        put(c, s[i]);
    if (rtype) {
        push(c, rtype);
        retargetable(c, at + 2);
    }
}

/* Memory, table and reference instructions (the 0xfc bulk ones too). */
static void do_misc(comp *c, int wop)
{
    uint32_t imm[2] = { 0, 0 };
    switch (wop) {
    case WH_OP_MEMORY_SIZE:
        wh_rd_u8(&c->r);
        emit_generic(c, WH_IOP_MEMORY_SIZE, false, imm, 0, 0, WH_I32);
        break;
    case WH_OP_MEMORY_GROW:
        wh_rd_u8(&c->r);
        emit_generic(c, WH_IOP_MEMORY_GROW, false, imm, 0, 1, WH_I32);
        break;
    case WH_OP_MEMORY_INIT:
        imm[0] = wh_rd_u32(&c->r);
        wh_rd_u8(&c->r);
        emit_generic(c, WH_IOP_MEMORY_INIT, true, imm, 1, 3, 0);
        break;
    case WH_OP_DATA_DROP:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_DATA_DROP, false, imm, 1, 0, 0);
        break;
    case WH_OP_MEMORY_COPY:
        wh_rd_u8(&c->r);
        wh_rd_u8(&c->r);
        emit_generic(c, WH_IOP_MEMORY_COPY, true, imm, 0, 3, 0);
        break;
    case WH_OP_MEMORY_FILL:
        wh_rd_u8(&c->r);
        emit_generic(c, WH_IOP_MEMORY_FILL, true, imm, 0, 3, 0);
        break;
    case WH_OP_TABLE_GET:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_GET, true, imm, 1, 1,
                     c->m->tables[imm[0]].type.reftype);
        break;
    case WH_OP_TABLE_SET:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_SET, true, imm, 1, 2, 0);
        break;
    case WH_OP_TABLE_SIZE:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_SIZE, false, imm, 1, 0, WH_I32);
        break;
    case WH_OP_TABLE_GROW:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_GROW, false, imm, 1, 2, WH_I32);
        break;
    case WH_OP_TABLE_FILL:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_FILL, true, imm, 1, 3, 0);
        break;
    case WH_OP_TABLE_COPY:
        imm[0] = wh_rd_u32(&c->r);
        imm[1] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_COPY, true, imm, 2, 3, 0);
        break;
    case WH_OP_TABLE_INIT:
        imm[1] = wh_rd_u32(&c->r);           /* elemidx comes first */
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_TABLE_INIT, true, imm, 2, 3, 0);
        break;
    case WH_OP_ELEM_DROP:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_ELEM_DROP, false, imm, 1, 0, 0);
        break;
    case WH_OP_REF_NULL:
        push_const(c, wh_rd_u8(&c->r), 0);
        break;
    case WH_OP_REF_IS_NULL:
        emit_generic(c, WH_IOP_I64_EQZ, false, imm, 0, 1, WH_I32);
        break;
    case WH_OP_REF_FUNC:
        imm[0] = wh_rd_u32(&c->r);
        emit_generic(c, WH_IOP_REF_FUNC, false, imm, 1, 0, WH_FUNCREF);
        break;
    default:
        (void)WH_NEVER(true);
        break;
    }
}

/* ---- The instruction loop ----------------------------------------------- */

static void compile_op(comp *c, int wop)
{
    switch (wop) {
    case WH_OP_UNREACHABLE:
        site(c, op(c, WH_IOP_UNREACHABLE));
        frame_at(c, 0)->dead = true;
        break;
    case WH_OP_NOP: break;
    case WH_OP_BLOCK: do_block(c, F_BLOCK); break;
    case WH_OP_LOOP: do_block(c, F_LOOP); break;
    case WH_OP_IF: do_if(c); break;
    case WH_OP_ELSE: do_else(c); break;
    case WH_OP_END: do_end(c); break;
    case WH_OP_BR:
        emit_branch(c, frame_at(c, wh_rd_u32(&c->r)));
        frame_at(c, 0)->dead = true;
        break;
    case WH_OP_BR_IF: do_br_if(c, wh_rd_u32(&c->r)); break;
    case WH_OP_BR_TABLE:
        do_br_table(c);
        frame_at(c, 0)->dead = true;
        break;
    case WH_OP_RETURN:
        emit_return(c);
        frame_at(c, 0)->dead = true;
        break;
    case WH_OP_CALL: do_call(c, wh_rd_u32(&c->r)); break;
    case WH_OP_CALL_INDIRECT: do_call_indirect(c); break;
    case WH_OP_DROP: pop(c); break;
    case WH_OP_SELECT: do_select(c); break;
    case WH_OP_SELECT_T:
        for (uint32_t n = wh_rd_u32(&c->r); n; n--)
            wh_rd_u8(&c->r);
        do_select(c);
        break;
    case WH_OP_LOCAL_GET: do_local_get(c, wh_rd_u32(&c->r)); break;
    case WH_OP_LOCAL_SET: do_local_set(c, wh_rd_u32(&c->r), false); break;
    case WH_OP_LOCAL_TEE: do_local_set(c, wh_rd_u32(&c->r), true); break;
    case WH_OP_GLOBAL_GET: do_global_get(c, wh_rd_u32(&c->r)); break;
    case WH_OP_GLOBAL_SET: do_global_set(c, wh_rd_u32(&c->r)); break;
    case WH_OP_I32_CONST: push_const(c, WH_I32, (uint32_t)wh_rd_s32(&c->r)); break;
    case WH_OP_I64_CONST: push_const(c, WH_I64, (uint64_t)wh_rd_s64(&c->r)); break;
    case WH_OP_F32_CONST: push_const(c, WH_F32, wh_rd_f32(&c->r)); break;
    case WH_OP_F64_CONST: push_const(c, WH_F64, wh_rd_f64(&c->r)); break;
    case WH_OP_I32_WRAP_I64: retype(c, WH_I32); break;
    case WH_OP_I32_REINTERPRET_F32: retype(c, WH_I32); break;
    case WH_OP_I64_REINTERPRET_F64: retype(c, WH_I64); break;
    case WH_OP_F32_REINTERPRET_I32: retype(c, WH_F32); break;
    case WH_OP_F64_REINTERPRET_I64: retype(c, WH_F64); break;
    default:
        if (mem_iop[wop] && wh_opinfo_table[wop].r)
            do_load(c, wop);
        else if (mem_iop[wop])
            do_store(c, wop);
        else if (unop_iop[wop])
            do_unop(c, wop);
        else if (binop_iop[wop])
            do_binop(c, wop);
        else
            do_misc(c, wop);
        break;
    }
}

/* Skips one instruction's immediates (dead code is read, not compiled). */
static void skip_imm(comp *c, int wop)
{
    wh_reader *r = &c->r;
    switch (wh_opinfo_table[wop].imm) {
    case WH_IMM_BR_TABLE:
        for (uint32_t n = wh_rd_u32(r) + 1; n && !r->err; n--)
            wh_rd_u32(r);
        break;
    case WH_IMM_SELECT_T:
        for (uint32_t n = wh_rd_u32(r); n && !r->err; n--)
            wh_rd_u8(r);
        break;
    case WH_IMM_LABEL: case WH_IMM_FUNC: case WH_IMM_LOCAL: case WH_IMM_GLOBAL:
    case WH_IMM_TABLE: case WH_IMM_DATA: case WH_IMM_ELEM:
        wh_rd_u32(r);
        break;
    case WH_IMM_CALL_INDIRECT: case WH_IMM_MEMARG: case WH_IMM_ELEM_TABLE:
    case WH_IMM_TABLE_TABLE:
        wh_rd_u32(r);
        wh_rd_u32(r);
        break;
    case WH_IMM_MEMIDX: case WH_IMM_REFTYPE: wh_rd_u8(r); break;
    case WH_IMM_MEM_MEM: wh_rd_u8(r); wh_rd_u8(r); break;
    case WH_IMM_DATA_MEM: wh_rd_u32(r); wh_rd_u8(r); break;
    case WH_IMM_BLOCKTYPE: wh_rd_s33(r); break;
    case WH_IMM_I32: wh_rd_s32(r); break;
    case WH_IMM_I64: wh_rd_s64(r); break;
    case WH_IMM_F32: wh_rd_f32(r); break;
    case WH_IMM_F64: wh_rd_f64(r); break;
    default: break;
    }
}

/* An instruction in unreachable code: only nesting matters, until the
 * else/end that makes code reachable again. */
static void skip_dead(comp *c, int wop)
{
    switch (wop) {
    case WH_OP_BLOCK: case WH_OP_LOOP: case WH_OP_IF:
        wh_rd_s33(&c->r);
        c->dead_depth++;
        break;
    case WH_OP_ELSE:
        if (!c->dead_depth)
            do_else(c);
        break;
    case WH_OP_END:
        if (c->dead_depth)
            c->dead_depth--;
        else
            do_end(c);
        break;
    default:
        skip_imm(c, wop);
        break;
    }
}

static void compile_body(comp *c)
{
    while (c->nctl && !c->nomem && !c->r.err) {
        c->off = (uint32_t)wh_rd_offset(&c->r);
        uint8_t prefix = 0;
        uint32_t code = wh_rd_u8(&c->r);
        if (code == 0xfc) {
            prefix = 0xfc;
            code = wh_rd_u32(&c->r);
        }
        int wop = wh_op_lookup(prefix, code);
        if (WH_NEVER(wop < 0))
            break;
        if (frame_at(c, 0)->dead) {
            skip_dead(c, wop);
            continue;
        }
        c->ctl[c->cost_frame].cost++;
        compile_op(c, wop);
    }
}

/* ---- Functions ---------------------------------------------------------- */

/* Lays out params and locals (spec 4.5.3.1 frames) and the record above
 * them; the operand stack starts after the record. */
static bool layout_frame(comp *c, const wh_funcdecl *fd)
{
    const wh_functype *t = fd->type;
    uint32_t n = t->nparams + fd->nlocals, s = 0;
    if (!RESERVE(c, locals, caplocals, n + 1))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t type = i < t->nparams ? t->params[i] : fd->local_types[i - t->nparams];
        c->locals[i] = (struct local){ s, type, false };
        s += wh_valtype_slots(type);
    }
    c->type = t;
    c->result_slots = t->result_slots;
    c->local_slots = s - t->param_slots;
    c->rec = s > t->result_slots ? s : t->result_slots;
    c->temp0 = c->rec + WH_REC_SLOTS;
    c->maxslot = c->temp0;
    return true;
}

/* Copies the finished code and trap sites into the module arena. */
static bool finish(comp *c, const wh_funcdecl *fd, uint32_t funcidx)
{
    wh_compiled *out = fd->compiled;
    uint32_t *code = wh_arena_alloc(&c->m->arena, (size_t)c->ncode * sizeof *code);
    wh_trapsite *sites = wh_arena_alloc(&c->m->arena, (size_t)c->nsites * sizeof *sites);
    if (!code || !sites)
        return false;
    memcpy(code, c->code, (size_t)c->ncode * sizeof *code);
    if (c->nsites)
        memcpy(sites, c->sites, (size_t)c->nsites * sizeof *sites);
    *out = (wh_compiled){
        .code = code, .ncode = c->ncode, .funcidx = funcidx,
        .param_slots = fd->type->param_slots,
        .local_slots = c->local_slots,
        .rec = c->rec, .frame_slots = c->maxslot, .cost = c->func_cost,
        .ntraps = c->nsites, .traps = sites,
    };
    return true;
}

static bool compile_func(comp *c, uint32_t funcidx)
{
    const wh_funcdecl *fd = &c->m->funcs[funcidx];
    if (!layout_frame(c, fd))
        return false;
    c->ncode = c->nstk = c->nctl = c->nsites = c->dead_depth = 0;
    c->cost_frame = 0;
    c->func_cost = 0;
    label_here(c);
    c->entry_path = true;
    c->r = (wh_reader){ c->m->bytes, c->m->bytes + fd->body_off,
                        c->m->bytes + fd->body_off + fd->body_len, NULL, 0 };
    frame *f = push_frame(c, F_FUNC);
    if (!f)
        return false;
    f->nr = fd->type->nresults;
    f->results = fd->type->results;
    compile_body(c);
    if (c->nomem)
        return false;
    if (WH_NEVER(c->r.err || c->nctl))
        return false;
    return finish(c, fd, funcidx);
}

wharf_status wh_interp_compile(wharf_module *m, wharf_error *err)
{
    comp c = { .m = m, .al = m->arena.alloc, .h = wh_interp_handlers() };
    bool ok = true;
    /* Every wh_compiled exists before any code, so calls can point at
     * their callees directly. */
    for (uint32_t i = 0; i < m->nfuncs && ok; i++)
        if (m->funcs[i].import < 0)
            ok = (m->funcs[i].compiled = wh_arena_alloc(&m->arena, sizeof(wh_compiled))) != NULL;
    for (uint32_t i = 0; i < m->nfuncs && ok; i++)
        if (m->funcs[i].import < 0)
            ok = compile_func(&c, i);
    wh_free(c.al, c.code);
    wh_free(c.al, c.stk);
    wh_free(c.al, c.ctl);
    wh_free(c.al, c.sites);
    wh_free(c.al, c.locals);
    wh_free(c.al, c.tmp);
    if (!ok)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET,
                            "out of memory compiling the module");
    return WHARF_OK;
}

/* Compiled code lives in the module arena and dies with it. */
void wh_interp_compiled_free(wharf_module *m)
{
    (void)m;
}
