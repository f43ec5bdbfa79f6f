/* interp.c: runs the internal code that compile.c produces (interpInt.h,
 * iops.def).
 *
 * Owns the dispatch loop, the call records of wasm->wasm calls within one
 * instance, and the exact semantics of every instruction (spec 4.3-4.4):
 * integer traps, float NaN and signed-zero rules, conversions, bounds
 * checks. It allocates nothing and keeps no state outside the wh_exec and
 * the value stack, so any number of threads may run the same module.
 *
 * Speed comes from work done once in compile.c: operands are frame slots
 * named in the instruction, so there is no operand-stack pointer to move,
 * and a handler is a few loads, the operation and one indirect jump
 * (direct threading with computed goto: each instruction starts with its
 * handler's address; measured on x86-64, this beats a 32-bit offset from
 * a base label by far). Calls between functions of the same instance push
 * a three-slot record on the value stack and stay in this loop; anything
 * else goes through wh_rt_invoke. Fuel ticks, the call-depth budget and
 * memory 0's base and size live in locals (registers, mostly) and are
 * synced around every call out of the loop.
 *
 * Invariant: `ip` points at the start of the executing instruction until
 * its handler dispatches, so a trap knows which instruction raised it.
 */
#include "interpInt.h"

#include <math.h>
#include <string.h>

/* ---- Values: f32/f64 live in slots as bit patterns --------------------- */

static inline float f32_of(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline double f64_of(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static inline uint32_t f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline uint64_t f64_bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

/* min/max (spec 4.3.3): a NaN operand gives a NaN (a + b quiets it and
 * keeps a canonical input canonical); -0 is below +0. */
static inline float f32_min(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return f32_of(f32_bits(a) | f32_bits(b));
    return a < b ? a : b;
}

static inline float f32_max(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return f32_of(f32_bits(a) & f32_bits(b));
    return a > b ? a : b;
}

static inline double f64_min(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return f64_of(f64_bits(a) | f64_bits(b));
    return a < b ? a : b;
}

static inline double f64_max(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return f64_of(f64_bits(a) & f64_bits(b));
    return a > b ? a : b;
}

/* x as computed, rounded to a double: keeps the compiler from contracting
 * a * b + c into a fused multiply-add, which rounds once where wasm rounds
 * twice. The empty asm costs nothing. */
static inline double rounded(double x)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__("" : "+x"(x));
#elif defined(__aarch64__)
    __asm__("" : "+w"(x));
#else
    volatile double v = x;
    x = v;
#endif
    return x;
}

/* Saturating truncation (spec 4.3.3 trunc_sat). Every f32 is exactly a
 * double, so one set serves both widths; the bounds are exact powers of
 * two. */
static inline int32_t sat_i32_s(double x)
{
    if (x != x)
        return 0;
    if (x <= -2147483648.0)
        return INT32_MIN;
    if (x >= 2147483648.0)
        return INT32_MAX;
    return (int32_t)x;
}

static inline uint32_t sat_i32_u(double x)
{
    if (!(x > 0))
        return 0;
    if (x >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)x;
}

static inline int64_t sat_i64_s(double x)
{
    if (x != x)
        return 0;
    if (x <= -9223372036854775808.0)
        return INT64_MIN;
    if (x >= 9223372036854775808.0)
        return INT64_MAX;
    return (int64_t)x;
}

static inline uint64_t sat_i64_u(double x)
{
    if (!(x > 0))
        return 0;
    if (x >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

static inline uint64_t imm64(const uint32_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a << b) | (a >> ((32 - b) & 31));
}

static inline uint64_t rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a << b) | (a >> ((64 - b) & 63));
}

/* ---- Bulk memory and tables (spec 4.4.6-4.4.7) ------------------------
 * Each checks the whole range before writing anything and returns the
 * trap to raise, or WHARF_TRAP_NONE. */

static wharf_trap memory_init(wharf_instance *inst, uint32_t seg, uint32_t d,
                              uint32_t s, uint32_t n)
{
    const wh_data *ds = &inst->module->datas[seg];
    uint64_t len = inst->data_dropped[seg] ? 0 : ds->len;
    wharf_memory *mem = inst->mem0;
    if ((uint64_t)s + n > len || (uint64_t)d + n > mem->size)
        return WHARF_TRAP_MEMORY_OOB;
    if (n)
        memcpy(mem->base + d, inst->module->bytes + ds->off + s, n);
    return WHARF_TRAP_NONE;
}

static wharf_trap memory_copy(wharf_memory *mem, uint32_t d, uint32_t s, uint32_t n)
{
    if ((uint64_t)s + n > mem->size || (uint64_t)d + n > mem->size)
        return WHARF_TRAP_MEMORY_OOB;
    if (n)
        memmove(mem->base + d, mem->base + s, n);
    return WHARF_TRAP_NONE;
}

static wharf_trap memory_fill(wharf_memory *mem, uint32_t d, uint32_t v, uint32_t n)
{
    if ((uint64_t)d + n > mem->size)
        return WHARF_TRAP_MEMORY_OOB;
    if (n)
        memset(mem->base + d, (int)(uint8_t)v, n);
    return WHARF_TRAP_NONE;
}

/* Element i of segment `seg` as a reference: a function index, or one of
 * the constant expressions a segment may hold (ref.null, ref.func,
 * global.get), already validated. */
static void *elem_ref(wharf_instance *inst, const wh_elem *seg, uint32_t i)
{
    if (seg->funcidx)
        return inst->funcs[seg->funcidx[i]];
    const wharf_module *m = inst->module;
    wh_reader r = { m->bytes, m->bytes + seg->exprs[i].off,
                    m->bytes + seg->exprs[i].off + seg->exprs[i].len, NULL, 0 };
    uint8_t op = wh_rd_u8(&r);
    if (op == 0xd2)
        return inst->funcs[wh_rd_u32(&r)];
    if (op == 0x23)
        return (void *)(uintptr_t)inst->globals[wh_rd_u32(&r)]->val[0];
    return NULL;
}

static wharf_trap table_init(wharf_instance *inst, uint32_t ti, uint32_t seg,
                             uint32_t d, uint32_t s, uint32_t n)
{
    const wh_elem *es = &inst->module->elems[seg];
    wharf_table *t = inst->tables[ti];
    uint64_t len = inst->elem_dropped[seg] ? 0 : es->count;
    if ((uint64_t)s + n > len || (uint64_t)d + n > t->size)
        return WHARF_TRAP_TABLE_OOB;
    for (uint32_t i = 0; i < n; i++)
        t->elems[d + i] = elem_ref(inst, es, s + i);
    return WHARF_TRAP_NONE;
}

static wharf_trap table_copy(wharf_table *dt, wharf_table *st, uint32_t d,
                             uint32_t s, uint32_t n)
{
    if ((uint64_t)s + n > st->size || (uint64_t)d + n > dt->size)
        return WHARF_TRAP_TABLE_OOB;
    if (n)
        memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
    return WHARF_TRAP_NONE;
}

static wharf_trap table_fill(wharf_table *t, uint32_t i, void *v, uint32_t n)
{
    if ((uint64_t)i + n > t->size)
        return WHARF_TRAP_TABLE_OOB;
    for (uint32_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    return WHARF_TRAP_NONE;
}

/* call_indirect's signature check: the same type object, or a structural
 * match (types from another module), hash first. */
static inline bool type_matches(const wh_functype *have, const wh_functype *want)
{
    return have == want || (have->hash == want->hash && wh_functype_equal(have, want));
}

/* The module offset of the instruction at ip: the last trap site at or
 * before it. */
static uint64_t trap_offset(const wh_compiled *c, const uint32_t *ip)
{
    uint32_t pc = (uint32_t)(ip - c->code), lo = 0, hi = c->ntraps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->traps[mid].pc <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? c->traps[lo - 1].off : WHARF_NO_OFFSET;
}

/* ---- The dispatch loop ------------------------------------------------- */

#define DISPATCH()                                                       \
    do {                                                                 \
        void *h_;                                                        \
        memcpy(&h_, ip, sizeof h_);                                      \
        goto *h_;                                                        \
    } while (0)
/* Units 0-1 of an instruction hold its handler; U(k) is operand k. NEXT
 * and JUMP count operands the same way. */
#define U(k) ip[(k) + 1]
#define NEXT(n) do { ip += (n) + 1; DISPATCH(); } while (0)
#define TRAP(code) do { trap = (code); goto trapped; } while (0)
/* Around calls into the runtime, which may run wasm on the same ex. */
#define SYNC_OUT() (ex->depth = ex->max_depth - room)
#define SYNC_IN() (room = ex->max_depth - ex->depth)

/* Operand k of the current instruction, as a slot and typed; IMM64 reads a
 * 64-bit immediate from operands k and k + 1. */
#define IMM64(k) imm64(&U(k))
#define S(k) fp[U(k)]
#define U32(k) ((uint32_t)S(k))
#define U64(k) ((uint64_t)S(k))
#define F32(k) f32_of(U32(k))
#define F64(k) f64_of(U64(k))
#define PUT32(k, v) (S(k) = (uint32_t)(v))
#define PUT64(k, v) (S(k) = (uint64_t)(v))
#define PUTF32(k, v) (S(k) = f32_bits(v))
#define PUTF64(k, v) (S(k) = f64_bits(v))

/* Taking the branch whose offset (in bytes, from the unit holding it) is
 * operand k; a backward branch to a loop header also charges the loop's
 * cost, operand k + 1. */
#define JUMP_TO(k) (ip = (const uint32_t *)((const char *)&U(k) + (int32_t)U(k)))
#define JUMP(k) do { JUMP_TO(k); DISPATCH(); } while (0)
#define JUMP_LOOP(k)                                                     \
    do {                                                                 \
        ex->ticks -= (int32_t)U((k) + 1);                                \
        JUMP_TO(k);                                                      \
        if (WH_UNLIKELY(ex->ticks < 0))                                  \
            goto limits;                                                 \
        DISPATCH();                                                      \
    } while (0)

#define H_UN(name, GET, PUT, expr) \
    L_##name: { __auto_type a = GET(2); PUT(1, expr); NEXT(3); }
#define H_BIN(name, GET, PUT, expr) \
    L_##name: { __auto_type a = GET(2); __auto_type b = GET(3); PUT(1, expr); NEXT(4); }
#define H_BINI32(name, expr) H_BIN(name, U32, PUT32, expr)                \
    L_##name##_I: { uint32_t a = U32(2), b = U(3); PUT32(1, expr); NEXT(4); }
#define H_BINI64(name, expr) H_BIN(name, U64, PUT64, expr)                \
    L_##name##_I: { uint64_t a = U64(2), b = IMM64(3); PUT64(1, expr); NEXT(5); }
#define H_BINF64(name, expr) H_BIN(name, F64, PUTF64, expr)               \
    L_##name##_I: { double a = F64(2), b = f64_of(IMM64(3)); PUTF64(1, expr); NEXT(5); }
/* A compare: the value form (d, a, b) and the fused branches (a, b, off);
 * IMM(k) reads the immediate b from operand k, W operands wide. */
#define H_CMP(name, T, GET, IMM, W, expr)                                \
    L_##name: { T a = GET(2), b = GET(3); PUT32(1, expr); NEXT(4); }      \
    L_##name##_I: { T a = GET(2), b = IMM(3); PUT32(1, expr); NEXT(3 + W); } \
    L_BR_##name: { T a = GET(1), b = GET(2); if (expr) JUMP(3); NEXT(4); } \
    L_BR_##name##_L: { T a = GET(1), b = GET(2); if (expr) JUMP_LOOP(3); NEXT(5); } \
    L_BR_##name##_I: {                                                   \
        T a = GET(1), b = IMM(2);                                        \
        if (expr)                                                        \
            JUMP(2 + W);                                                 \
        NEXT(3 + W);                                                     \
    }                                                                    \
    L_BR_##name##_I_L: {                                                 \
        T a = GET(1), b = IMM(2);                                        \
        if (expr)                                                        \
            JUMP_LOOP(2 + W);                                            \
        NEXT(4 + W);                                                     \
    }
#define IMM32(k) U(k)
#define H_CMP32(name, expr) H_CMP(name, uint32_t, U32, IMM32, 1, expr)
#define H_CMP64(name, expr) H_CMP(name, uint64_t, U64, IMM64, 2, expr)
/* A loop's closing i32.add and compare-and-branch on the sum: d <- x + y,
 * then back to the loop if d op b (operands d, x, y, b, off, cost). */
#define INC_BODY(sum, rhs, expr)                                         \
    {                                                                    \
        uint32_t a = (sum);                                              \
        PUT32(1, a);                                                     \
        uint32_t b = (rhs);                                              \
        if (expr)                                                        \
            JUMP_LOOP(5);                                                \
        NEXT(7);                                                         \
    }
#define H_INC(name, expr)                                                \
    L_INC_RR_##name: INC_BODY(U32(2) + U32(3), U32(4), expr)              \
    L_INC_RI_##name: INC_BODY(U32(2) + U32(3), U(4), expr)                \
    L_INC_IR_##name: INC_BODY(U32(2) + U(3), U32(4), expr)                \
    L_INC_II_##name: INC_BODY(U32(2) + U(3), U(4), expr)
/* A shift by a constant, then a logic op (or add) with its result. */
#define H_SHOP(shift, op, sexpr, OPR)                                    \
    L_##shift##_##op: {                                                  \
        uint32_t a = U32(2), k = U(3) & 31, b = U32(4);                  \
        PUT32(1, (sexpr) OPR b);                                         \
        NEXT(5);                                                         \
    }
#define H_SHOPS(shift, sexpr)                                            \
    H_SHOP(shift, I32_XOR, sexpr, ^) H_SHOP(shift, I32_OR, sexpr, |)     \
    H_SHOP(shift, I32_AND, sexpr, &) H_SHOP(shift, I32_ADD, sexpr, +)
/* Two i32 ops, the second on the first's result. */
#define H_PAIR(p, c, P, C)                                               \
    L_##p##_##c: PUT32(1, (U32(2) P U32(3)) C U32(4)); NEXT(5);
#define H_PAIRS(p, P)                                                    \
    H_PAIR(p, I32_ADD, P, +) H_PAIR(p, I32_XOR, P, ^)                    \
    H_PAIR(p, I32_AND, P, &) H_PAIR(p, I32_OR, P, |)
/* An f64 result stored at once (operand k: address, k + 1: offset). */
#define STORE_F64(v, k)                                                  \
    do {                                                                 \
        uint64_t ea = (uint64_t)U32(k) + U((k) + 1), bits = f64_bits(v); \
        if (WH_UNLIKELY(ea + 8 > msize))                                 \
            TRAP(WHARF_TRAP_MEMORY_OOB);                                 \
        memcpy(mbase + ea, &bits, 8);                                    \
        NEXT((k) + 2);                                                   \
    } while (0)
/* Two shifts by constants, combined. */
#define SHX_SHL(a, k) ((a) << (k))
#define SHX_SHR_U(a, k) ((a) >> (k))
#define SHX_ROTL(a, k) rotl32(a, k)
#define OPX_XOR ^
#define OPX_OR |
#define H_SH2(a, b, op)                                                  \
    L_SH2_##a##_##b##_##op:                                              \
        PUT32(1, SHX_##a(U32(2), U(3) & 31) OPX_##op SHX_##b(U32(4), U(5) & 31)); \
        NEXT(6);
#define H_BRC(name, cond)                                                \
    L_BR_##name: if (cond) JUMP(2); NEXT(3);                            \
    L_BR_##name##_L: if (cond) JUMP_LOOP(2); NEXT(4);

/* Loads and stores: effective address = i32 operand + offset, checked as a
 * 64-bit sum against the current size (spec 4.4.7). */
#define LOAD_AT(ea, T, N, k)                                             \
    do {                                                                 \
        T v;                                                             \
        if (WH_UNLIKELY((ea) + N > msize))                               \
            TRAP(WHARF_TRAP_MEMORY_OOB);                                 \
        memcpy(&v, mbase + (ea), N);                                     \
        S(1) = (uint64_t)v;                                              \
        NEXT(k);                                                         \
    } while (0)
/* The fused forms first write the i32.add's sum (wrapping at 32 bits, as
 * the add would) to s, where a later instruction may read it. */
#define H_LOAD(name, T, N)                                               \
    L_##name: LOAD_AT((uint64_t)U32(2) + U(3), T, N, 4);                 \
    L_##name##_AA: {                                                     \
        uint32_t sum = U32(3) + U32(4);                                  \
        PUT32(2, sum);                                                   \
        LOAD_AT((uint64_t)sum + U(5), T, N, 6);                          \
    }                                                                    \
    L_##name##_AI: {                                                     \
        uint32_t sum = U32(3) + U(4);                                    \
        PUT32(2, sum);                                                   \
        LOAD_AT((uint64_t)sum + U(5), T, N, 6);                          \
    }
#define STORE_AT(ea, T, N, V, k)                                         \
    do {                                                                 \
        T v = (T)(V);                                                    \
        if (WH_UNLIKELY((ea) + N > msize))                               \
            TRAP(WHARF_TRAP_MEMORY_OOB);                                 \
        memcpy(mbase + (ea), &v, N);                                     \
        NEXT(k);                                                         \
    } while (0)
#define EA_R (uint64_t)U32(1) + U(3)
#define EA_AA (uint64_t)(uint32_t)(U32(1) + U32(2)) + U(4)
#define EA_AI (uint64_t)(uint32_t)(U32(1) + U(2)) + U(4)
#define IMMS(k) ((uint64_t)(int64_t)(int32_t)U(k))
#define H_STORE(name, T, N)                                              \
    L_##name: STORE_AT(EA_R, T, N, S(2), 4);                             \
    L_##name##_AA: STORE_AT(EA_AA, T, N, S(3), 5);                       \
    L_##name##_AI: STORE_AT(EA_AI, T, N, S(3), 5);                       \
    L_##name##_K: STORE_AT(EA_R, T, N, IMMS(2), 4);                      \
    L_##name##_AA_K: STORE_AT(EA_AA, T, N, IMMS(3), 5);                  \
    L_##name##_AI_K: STORE_AT(EA_AI, T, N, IMMS(3), 5);
/* Trapping float -> int truncation: NaN, then the exact open range. */
#define H_TRUNC(name, GET, PUT, T, lo, hi)                               \
    L_##name: {                                                          \
        double x = GET(2);                                               \
        if (x != x)                                                      \
            TRAP(WHARF_TRAP_BAD_CONVERSION);                             \
        if (!(x > (lo) && x < (hi)))                                     \
            TRAP(WHARF_TRAP_INT_OVERFLOW);                               \
        PUT(1, (T)x);                                                    \
        NEXT(3);                                                         \
    }

/* Runs `entry` (a wasm function of entry->inst) with its arguments at sp;
 * or, when `table` is not NULL, only reports the handler addresses.
 * noinline (and noclone where the compiler has it) keep one copy of the
 * labels the addresses refer to. */
#if defined(__has_attribute) && __has_attribute(noclone)
__attribute__((noclone))
#endif
__attribute__((noinline))
static wharf_status run(wh_exec *ex, wharf_func *entry, wharf_slot *sp,
                        void *const **table)
{
    static void *const handlers[WH_IOP_COUNT_] = {
#define IOP(name, units) [WH_IOP_##name] = &&L_##name,
#include "iops.def"
    };
    if (table) {
        *table = handlers;
        return WHARF_OK;
    }

    wharf_instance *inst = entry->inst;
    wharf_memory *mem = inst->mem0;
    uint8_t *mbase = mem ? mem->base : NULL;
    uint64_t msize = mem ? mem->size : 0;
    wharf_global **globals = inst->globals;
    /* `room` is the wasm frames still allowed; ex->depth is synced from it
     * around every call out of this loop. */
    const uint32_t depth0 = ex->depth;
    uint32_t room = depth0 < ex->max_depth ? ex->max_depth - depth0 : 0;
    wharf_slot *const stack_end = ex->stack_end;
    const wh_compiled *cur = NULL, *callee = entry->code;
    wharf_slot *fp = NULL, *nfp = sp, *rec;
    const uint32_t *ip = NULL, *rip = NULL;
    wharf_trap trap;
    wharf_status st;
    goto call;

    /* Enters `callee` with its frame at nfp, returning to rip in the
     * current frame. */
call:
    if (WH_UNLIKELY(room == 0 || (size_t)(stack_end - nfp) < callee->frame_slots))
        TRAP(WHARF_TRAP_STACK_EXHAUSTED);
    room--;
    for (uint32_t i = 0; i < callee->local_slots; i++)
        nfp[callee->param_slots + i] = 0;
    rec = nfp + callee->rec;
    rec[0] = (wharf_slot)(uintptr_t)rip;
    rec[1] = (wharf_slot)(uintptr_t)fp;
    rec[2] = (wharf_slot)(uintptr_t)cur;
    fp = nfp;
    cur = callee;
    ip = callee->code;
    if (WH_UNLIKELY((ex->ticks -= callee->cost) < 0))
        goto limits;
    DISPATCH();

ret:
    ip = (const uint32_t *)(uintptr_t)rec[0];
    fp = (wharf_slot *)(uintptr_t)rec[1];
    cur = (const wh_compiled *)(uintptr_t)rec[2];
    room++;
    if (WH_UNLIKELY(!ip)) {
        st = WHARF_OK;
        goto out;
    }
    DISPATCH();

limits:
    SYNC_OUT();
    st = wh_rt_check_limits(ex);
    SYNC_IN();
    if (st != WHARF_OK)
        goto out;
    DISPATCH();

trapped:
    if (cur)
        st = wh_rt_trap(ex, trap, inst->funcs[cur->funcidx], trap_offset(cur, ip));
    else
        st = wh_rt_trap(ex, trap, entry, WHARF_NO_OFFSET);
out:
    ex->depth = depth0;
    return st;

    /* ---- Control ---- */
L_UNREACHABLE:
    TRAP(WHARF_TRAP_UNREACHABLE);
L_BR:
    JUMP(1);
L_BR_L:
    JUMP_LOOP(1);
L_BR_TABLE: {
    uint32_t i = U32(1), n = U(2);
    if (i > n)
        i = n;
    JUMP(3 + i);
}
L_RET:
    rec = fp + U(1);
    goto ret;
L_RET1:
    fp[0] = S(1);
    rec = fp + U(2);
    goto ret;
L_RET_ADD:
    fp[0] = (uint32_t)(U32(1) + U32(2));
    rec = fp + U(3);
    goto ret;
L_RET_ADDI:
    fp[0] = (uint32_t)(U32(1) + U(2));
    rec = fp + U(3);
    goto ret;
L_CALL:
    memcpy(&callee, &U(2), sizeof callee);
    nfp = fp + U(1);
    rip = ip + 5;
    goto call;
L_CALL_IMPORT:
    SYNC_OUT();
    st = wh_rt_invoke(ex, inst->funcs[U(2)], fp + U(1));
    SYNC_IN();
    if (st != WHARF_OK)
        goto out;
    msize = mem ? mem->size : 0;   /* the callee may have grown it */
    NEXT(3);
L_CALL_INDIRECT: {
    wharf_table *t = inst->tables[U(3)];
    uint32_t i = U32(4);
    if (WH_UNLIKELY(i >= t->size))
        TRAP(WHARF_TRAP_TABLE_OOB);
    wharf_func *g = t->elems[i];
    if (WH_UNLIKELY(!g))
        TRAP(WHARF_TRAP_UNINIT_ELEMENT);
    if (WH_UNLIKELY(!type_matches(g->type, &inst->module->types[U(2)])))
        TRAP(WHARF_TRAP_INDIRECT_MISMATCH);
    if (g->inst == inst && g->code) {
        callee = g->code;
        nfp = fp + U(1);
        rip = ip + 6;
        goto call;
    }
    SYNC_OUT();
    st = wh_rt_invoke(ex, g, fp + U(1));
    SYNC_IN();
    if (st != WHARF_OK)
        goto out;
    msize = mem ? mem->size : 0;
    NEXT(5);
}

    /* ---- Moves, constants, variables ---- */
L_MOV:
    S(1) = S(2);
    NEXT(3);
L_MOV_MOV:
    S(1) = S(2);
    S(3) = S(4);
    NEXT(5);
L_F64_MULADD: {
    double p = rounded(F64(2) * F64(3));
    PUTF64(1, F64(4) + p);
    NEXT(5);
}
L_F64_MULSUB: {
    double p = rounded(F64(2) * F64(3));
    PUTF64(1, p - F64(4));
    NEXT(5);
}
L_F64_SUBMUL: {
    double p = rounded(F64(2) * F64(3));
    PUTF64(1, F64(4) - p);
    NEXT(5);
}
L_F64_ADD_ST:
    STORE_F64(F64(1) + F64(2), 3);
L_F64_SUB_ST:
    STORE_F64(F64(1) - F64(2), 3);
L_F64_MUL_ST:
    STORE_F64(F64(1) * F64(2), 3);
L_F64_MULADD_ST:
    STORE_F64(F64(3) + rounded(F64(1) * F64(2)), 4);
L_F64_MULSUB_ST:
    STORE_F64(rounded(F64(1) * F64(2)) - F64(3), 4);
L_F64_SUBMUL_ST:
    STORE_F64(F64(3) - rounded(F64(1) * F64(2)), 4);
L_ADDI_ADDI:
    PUT32(1, U32(2) + U(3));
    PUT32(4, U32(5) + U(6));
    NEXT(7);
L_MOVN: {
    uint32_t n = U(1);
    const uint32_t *m = &U(2);
    for (uint32_t i = 0; i < n; i++)
        fp[m[2 * i]] = fp[m[2 * i + 1]];
    ip += 3 + 2 * n;
    DISPATCH();
}
L_MOVS_BR_L: {
    uint32_t n = U(1);
    const uint32_t *m = &U(2);
    for (uint32_t i = 0; i < n; i++)
        fp[m[2 * i]] = fp[m[2 * i + 1]];
    JUMP_LOOP(2 + 2 * n);
}
L_MOV2:
    fp[U(1)] = fp[U(2)];
    fp[U(1) + 1] = fp[U(2) + 1];
    NEXT(3);
L_CONST32:
    S(1) = U(2);
    NEXT(3);
L_CONST64: {
    uint64_t v;
    memcpy(&v, &U(2), 8);
    S(1) = v;
    NEXT(4);
}
L_SELECT:
    S(1) = U32(2) ? S(3) : S(4);
    NEXT(5);
L_SELECT2: {
    uint32_t from = U32(2) ? U(3) : U(4);
    fp[U(1)] = fp[from];
    fp[U(1) + 1] = fp[from + 1];
    NEXT(5);
}
L_GLOBAL_GET:
    S(1) = globals[U(2)]->val[0];
    NEXT(3);
L_GLOBAL_SET:
    globals[U(1)]->val[0] = S(2);
    NEXT(3);
L_GLOBAL_GET2:
    fp[U(1)] = globals[U(2)]->val[0];
    fp[U(1) + 1] = globals[U(2)]->val[1];
    NEXT(3);
L_GLOBAL_SET2:
    globals[U(1)]->val[0] = fp[U(2)];
    globals[U(1)]->val[1] = fp[U(2) + 1];
    NEXT(3);
L_REF_FUNC:
    S(1) = (wharf_slot)(uintptr_t)inst->funcs[U(2)];
    NEXT(3);

    /* ---- Memory and tables ---- */
L_MEMORY_SIZE:
    PUT32(1, msize / WH_PAGE_SIZE);
    NEXT(2);
L_MEMORY_GROW: {
    int32_t r = wh_rt_memory_grow(mem, U32(2));
    msize = mem->size;
    PUT32(1, r);
    NEXT(3);
}
L_MEMORY_INIT:
    if ((trap = memory_init(inst, U(1), U32(2), U32(3), U32(4))))
        goto trapped;
    NEXT(5);
L_DATA_DROP:
    inst->data_dropped[U(1)] = 1;
    NEXT(2);
L_MEMORY_COPY:
    if ((trap = memory_copy(mem, U32(1), U32(2), U32(3))))
        goto trapped;
    NEXT(4);
L_MEMORY_FILL:
    if ((trap = memory_fill(mem, U32(1), U32(2), U32(3))))
        goto trapped;
    NEXT(4);
L_TABLE_GET: {
    wharf_table *t = inst->tables[U(2)];
    uint32_t i = U32(3);
    if (WH_UNLIKELY(i >= t->size))
        TRAP(WHARF_TRAP_TABLE_OOB);
    S(1) = (wharf_slot)(uintptr_t)t->elems[i];
    NEXT(4);
}
L_TABLE_SET: {
    wharf_table *t = inst->tables[U(1)];
    uint32_t i = U32(2);
    if (WH_UNLIKELY(i >= t->size))
        TRAP(WHARF_TRAP_TABLE_OOB);
    t->elems[i] = (void *)(uintptr_t)S(3);
    NEXT(4);
}
L_TABLE_SIZE:
    PUT32(1, inst->tables[U(2)]->size);
    NEXT(3);
L_TABLE_GROW:
    PUT32(1, wh_rt_table_grow(inst->tables[U(2)], U32(4), (void *)(uintptr_t)S(3)));
    NEXT(5);
L_TABLE_FILL:
    if ((trap = table_fill(inst->tables[U(1)], U32(2), (void *)(uintptr_t)S(3), U32(4))))
        goto trapped;
    NEXT(5);
L_TABLE_COPY:
    if ((trap = table_copy(inst->tables[U(1)], inst->tables[U(2)], U32(3), U32(4), U32(5))))
        goto trapped;
    NEXT(6);
L_TABLE_INIT:
    if ((trap = table_init(inst, U(1), U(2), U32(3), U32(4), U32(5))))
        goto trapped;
    NEXT(6);
L_ELEM_DROP:
    inst->elem_dropped[U(1)] = 1;
    NEXT(2);

    /* ---- Branches on one value ---- */
    H_BRC(NZ32, U32(1) != 0)
    H_BRC(Z32, U32(1) == 0)
    H_BRC(NZ64, U64(1) != 0)
    H_BRC(Z64, U64(1) == 0)

    /* ---- Integer compares ---- */
#define CMP32_LIST(X)                                                    \
    X(I32_EQ, a == b)                                                    \
    X(I32_NE, a != b)                                                    \
    X(I32_LT_S, (int32_t)a < (int32_t)b)                                 \
    X(I32_LT_U, a < b)                                                   \
    X(I32_GT_S, (int32_t)a > (int32_t)b)                                 \
    X(I32_GT_U, a > b)                                                   \
    X(I32_LE_S, (int32_t)a <= (int32_t)b)                                \
    X(I32_LE_U, a <= b)                                                  \
    X(I32_GE_S, (int32_t)a >= (int32_t)b)                                \
    X(I32_GE_U, a >= b)
    CMP32_LIST(H_CMP32)
    CMP32_LIST(H_INC)
    H_CMP64(I64_EQ, a == b)
    H_CMP64(I64_NE, a != b)
    H_CMP64(I64_LT_S, (int64_t)a < (int64_t)b)
    H_CMP64(I64_LT_U, a < b)
    H_CMP64(I64_GT_S, (int64_t)a > (int64_t)b)
    H_CMP64(I64_GT_U, a > b)
    H_CMP64(I64_LE_S, (int64_t)a <= (int64_t)b)
    H_CMP64(I64_LE_U, a <= b)
    H_CMP64(I64_GE_S, (int64_t)a >= (int64_t)b)
    H_CMP64(I64_GE_U, a >= b)
L_INC_R_NZ32: {
    uint32_t a = U32(2) + U32(3);
    PUT32(1, a);
    if (a)
        JUMP_LOOP(4);
    NEXT(6);
}
L_INC_I_NZ32: {
    uint32_t a = U32(2) + U(3);
    PUT32(1, a);
    if (a)
        JUMP_LOOP(4);
    NEXT(6);
}

    /* ---- Integer arithmetic ---- */
    H_BINI32(I32_ADD, a + b)
    H_BINI32(I32_MUL, a * b)
    H_BINI32(I32_AND, a & b)
    H_BINI32(I32_OR, a | b)
    H_BINI32(I32_XOR, a ^ b)
    H_BINI32(I32_SHL, a << (b & 31))
    H_BINI32(I32_SHR_S, (int32_t)a >> (b & 31))
    H_BINI32(I32_SHR_U, a >> (b & 31))
    H_BINI32(I32_ROTL, rotl32(a, b))
    H_BINI64(I64_ADD, a + b)
    H_BINI64(I64_MUL, a * b)
    H_BINI64(I64_AND, a & b)
    H_BINI64(I64_OR, a | b)
    H_BINI64(I64_XOR, a ^ b)
    H_BINI64(I64_SHL, a << (b & 63))
    H_BINI64(I64_SHR_S, (int64_t)a >> (b & 63))
    H_BINI64(I64_SHR_U, a >> (b & 63))
    H_BINI64(I64_ROTL, rotl64(a, b))
    H_PAIRS(I32_ADD, +)
    H_PAIRS(I32_XOR, ^)
    H_PAIRS(I32_AND, &)
    H_PAIRS(I32_OR, |)
#define SH2(a, b, op) H_SH2(a, b, op)
#include "iops.def"
    H_SHOPS(I32_SHL_I, a << k)
    H_SHOPS(I32_SHR_U_I, a >> k)
    H_SHOPS(I32_ROTL_I, rotl32(a, k))
    H_BIN(I32_SUB, U32, PUT32, a - b)
    H_BIN(I32_ROTR, U32, PUT32, rotl32(a, 32 - (b & 31)))
    H_BIN(I64_SUB, U64, PUT64, a - b)
    H_BIN(I64_ROTR, U64, PUT64, rotl64(a, 64 - (b & 63)))

/* Division (spec 4.3.2). Unsigned division and remainder: only a zero
 * divisor traps. */
#define H_DIVU(name, T, GET, PUT, op)                                    \
    L_##name: {                                                          \
        T a = GET(2), b = GET(3);                                        \
        if (WH_UNLIKELY(b == 0))                                         \
            TRAP(WHARF_TRAP_DIV_ZERO);                                   \
        PUT(1, a op b);                                                  \
        NEXT(4);                                                         \
    }
/* Signed: also INT_MIN / -1 overflows, while INT_MIN % -1 is 0 (and
 * must not reach the CPU's idiv, which would fault). */
#define H_DIVS(name, T, GET, PUT, MIN)                                   \
    L_##name##_DIV_S: {                                                  \
        T a = (T)GET(2), b = (T)GET(3);                                  \
        if (WH_UNLIKELY(b == 0))                                         \
            TRAP(WHARF_TRAP_DIV_ZERO);                                   \
        if (WH_UNLIKELY(a == MIN && b == -1))                            \
            TRAP(WHARF_TRAP_INT_OVERFLOW);                               \
        PUT(1, a / b);                                                   \
        NEXT(4);                                                         \
    }                                                                    \
    L_##name##_REM_S: {                                                  \
        T a = (T)GET(2), b = (T)GET(3);                                  \
        if (WH_UNLIKELY(b == 0))                                         \
            TRAP(WHARF_TRAP_DIV_ZERO);                                   \
        PUT(1, b == -1 ? 0 : a % b);                                     \
        NEXT(4);                                                         \
    }
    H_DIVS(I32, int32_t, U32, PUT32, INT32_MIN)
    H_DIVS(I64, int64_t, U64, PUT64, INT64_MIN)
    H_DIVU(I32_DIV_U, uint32_t, U32, PUT32, /)
    H_DIVU(I32_REM_U, uint32_t, U32, PUT32, %)
    H_DIVU(I64_DIV_U, uint64_t, U64, PUT64, /)
    H_DIVU(I64_REM_U, uint64_t, U64, PUT64, %)

    /* By a constant that is neither 0 nor (signed) -1: nothing to check. */
    L_I32_DIV_S_I: PUT32(1, (int32_t)U32(2) / (int32_t)U(3)); NEXT(4);
    L_I32_DIV_U_I: PUT32(1, U32(2) / U(3)); NEXT(4);
    L_I32_REM_S_I: PUT32(1, (int32_t)U32(2) % (int32_t)U(3)); NEXT(4);
    L_I32_REM_U_I: PUT32(1, U32(2) % U(3)); NEXT(4);
    L_I64_DIV_S_I: PUT64(1, (int64_t)U64(2) / (int64_t)IMM64(3)); NEXT(5);
    L_I64_DIV_U_I: PUT64(1, U64(2) / IMM64(3)); NEXT(5);
    L_I64_REM_S_I: PUT64(1, (int64_t)U64(2) % (int64_t)IMM64(3)); NEXT(5);
    L_I64_REM_U_I: PUT64(1, U64(2) % IMM64(3)); NEXT(5);

    /* ---- Integer unary ---- */
    H_UN(I32_EQZ, U32, PUT32, a == 0)
    H_UN(I64_EQZ, U64, PUT32, a == 0)
    H_UN(I32_CLZ, U32, PUT32, a ? __builtin_clz(a) : 32)
    H_UN(I32_CTZ, U32, PUT32, a ? __builtin_ctz(a) : 32)
    H_UN(I32_POPCNT, U32, PUT32, __builtin_popcount(a))
    H_UN(I64_CLZ, U64, PUT64, a ? __builtin_clzll(a) : 64)
    H_UN(I64_CTZ, U64, PUT64, a ? __builtin_ctzll(a) : 64)
    H_UN(I64_POPCNT, U64, PUT64, __builtin_popcountll(a))
    H_UN(I32_EXTEND8_S, U32, PUT32, (int8_t)a)
    H_UN(I32_EXTEND16_S, U32, PUT32, (int16_t)a)
    H_UN(I64_EXTEND8_S, U64, PUT64, (int8_t)a)
    H_UN(I64_EXTEND16_S, U64, PUT64, (int16_t)a)
    H_UN(I64_EXTEND32_S, U64, PUT64, (int32_t)a)
    H_UN(I64_EXTEND_I32_S, U32, PUT64, (int32_t)a)
    H_UN(I64_EXTEND_I32_U, U32, PUT64, a)

    /* ---- Floats: abs/neg/copysign are bit operations, so NaN payloads
     * pass untouched (spec 4.3.3). ---- */
    H_UN(F32_ABS, U32, PUT32, a & 0x7fffffffu)
    H_UN(F32_NEG, U32, PUT32, a ^ 0x80000000u)
    H_UN(F64_ABS, U64, PUT64, a & 0x7fffffffffffffffull)
    H_UN(F64_NEG, U64, PUT64, a ^ 0x8000000000000000ull)
    H_BIN(F32_COPYSIGN, U32, PUT32, (a & 0x7fffffffu) | (b & 0x80000000u))
    H_BIN(F64_COPYSIGN, U64, PUT64,
          (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))
    /* Rounding: libm returns a NaN operand as it is, but the result must
     * be quiet (spec 4.3.3), hence a + a for NaNs. */
    H_UN(F32_CEIL, F32, PUTF32, a != a ? a + a : ceilf(a))
    H_UN(F32_FLOOR, F32, PUTF32, a != a ? a + a : floorf(a))
    H_UN(F32_TRUNC, F32, PUTF32, a != a ? a + a : truncf(a))
    H_UN(F32_NEAREST, F32, PUTF32, a != a ? a + a : rintf(a))  /* ties to even */
    H_UN(F32_SQRT, F32, PUTF32, sqrtf(a))
    H_UN(F64_CEIL, F64, PUTF64, a != a ? a + a : ceil(a))
    H_UN(F64_FLOOR, F64, PUTF64, a != a ? a + a : floor(a))
    H_UN(F64_TRUNC, F64, PUTF64, a != a ? a + a : trunc(a))
    H_UN(F64_NEAREST, F64, PUTF64, a != a ? a + a : rint(a))
    H_UN(F64_SQRT, F64, PUTF64, sqrt(a))
    H_BIN(F32_ADD, F32, PUTF32, a + b)
    H_BIN(F32_SUB, F32, PUTF32, a - b)
    H_BIN(F32_MUL, F32, PUTF32, a * b)
    H_BIN(F32_DIV, F32, PUTF32, a / b)
    H_BIN(F32_MIN, F32, PUTF32, f32_min(a, b))
    H_BIN(F32_MAX, F32, PUTF32, f32_max(a, b))
    H_BINF64(F64_ADD, a + b)
    H_BINF64(F64_SUB, a - b)
    H_BINF64(F64_MUL, a * b)
    H_BINF64(F64_DIV, a / b)
    H_BIN(F64_MIN, F64, PUTF64, f64_min(a, b))
    H_BIN(F64_MAX, F64, PUTF64, f64_max(a, b))
    H_BIN(F32_EQ, F32, PUT32, a == b)
    H_BIN(F32_NE, F32, PUT32, a != b)
    H_BIN(F32_LT, F32, PUT32, a < b)
    H_BIN(F32_GT, F32, PUT32, a > b)
    H_BIN(F32_LE, F32, PUT32, a <= b)
    H_BIN(F32_GE, F32, PUT32, a >= b)
    H_BIN(F64_EQ, F64, PUT32, a == b)
    H_BIN(F64_NE, F64, PUT32, a != b)
    H_BIN(F64_LT, F64, PUT32, a < b)
    H_BIN(F64_GT, F64, PUT32, a > b)
    H_BIN(F64_LE, F64, PUT32, a <= b)
    H_BIN(F64_GE, F64, PUT32, a >= b)

    /* ---- Conversions (spec 4.3.4). C's casts round correctly, including
     * u64 -> f32. ---- */
    H_TRUNC(I32_TRUNC_F32_S, F32, PUT32, int32_t, -2147483649.0, 2147483648.0)
    H_TRUNC(I32_TRUNC_F64_S, F64, PUT32, int32_t, -2147483649.0, 2147483648.0)
    H_TRUNC(I32_TRUNC_F32_U, F32, PUT32, uint32_t, -1.0, 4294967296.0)
    H_TRUNC(I32_TRUNC_F64_U, F64, PUT32, uint32_t, -1.0, 4294967296.0)
    H_TRUNC(I64_TRUNC_F32_S, F32, PUT64, int64_t, -9223372036854777856.0,
            9223372036854775808.0)
    H_TRUNC(I64_TRUNC_F64_S, F64, PUT64, int64_t, -9223372036854777856.0,
            9223372036854775808.0)
    H_TRUNC(I64_TRUNC_F32_U, F32, PUT64, uint64_t, -1.0, 18446744073709551616.0)
    H_TRUNC(I64_TRUNC_F64_U, F64, PUT64, uint64_t, -1.0, 18446744073709551616.0)
    H_UN(I32_TRUNC_SAT_F32_S, F32, PUT32, sat_i32_s(a))
    H_UN(I32_TRUNC_SAT_F32_U, F32, PUT32, sat_i32_u(a))
    H_UN(I32_TRUNC_SAT_F64_S, F64, PUT32, sat_i32_s(a))
    H_UN(I32_TRUNC_SAT_F64_U, F64, PUT32, sat_i32_u(a))
    H_UN(I64_TRUNC_SAT_F32_S, F32, PUT64, sat_i64_s(a))
    H_UN(I64_TRUNC_SAT_F32_U, F32, PUT64, sat_i64_u(a))
    H_UN(I64_TRUNC_SAT_F64_S, F64, PUT64, sat_i64_s(a))
    H_UN(I64_TRUNC_SAT_F64_U, F64, PUT64, sat_i64_u(a))
    H_UN(F32_CONVERT_I32_S, U32, PUTF32, (float)(int32_t)a)
    H_UN(F32_CONVERT_I32_U, U32, PUTF32, (float)a)
    H_UN(F32_CONVERT_I64_S, U64, PUTF32, (float)(int64_t)a)
    H_UN(F32_CONVERT_I64_U, U64, PUTF32, (float)a)
    H_UN(F32_DEMOTE_F64, F64, PUTF32, (float)a)
    H_UN(F64_CONVERT_I32_S, U32, PUTF64, (double)(int32_t)a)
    H_UN(F64_CONVERT_I32_U, U32, PUTF64, (double)a)
    H_UN(F64_CONVERT_I64_S, U64, PUTF64, (double)(int64_t)a)
    H_UN(F64_CONVERT_I64_U, U64, PUTF64, (double)a)
    H_UN(F64_PROMOTE_F32, F32, PUTF64, (double)a)

    /* ---- Memory access ---- */
#define H_LOADSX(name, T, N)                                             \
    L_##name##_SX: LOAD_AT((uint64_t)(uint32_t)((U32(2) << (U(3) & 31)) + U32(4)) + U(5), \
                           T, N, 6);
    H_LOADSX(I32_LOAD, uint32_t, 4)
    H_LOADSX(I64_LOAD, uint64_t, 8)
    H_LOADSX(F64_LOAD, uint64_t, 8)
    H_LOADSX(I32_LOAD8_U, uint8_t, 1)
/* A load whose value only the next store takes: source (a + imm) + off,
 * then destination likewise; both checked before the write. */
#define H_COPY(name, T)                                                  \
    L_##name: {                                                          \
        uint64_t src = (uint64_t)(uint32_t)(U32(1) + U(2)) + U(3);       \
        uint64_t dst = (uint64_t)(uint32_t)(U32(4) + U(5)) + U(6);       \
        T v;                                                             \
        if (WH_UNLIKELY(src + sizeof v > msize))                         \
            TRAP(WHARF_TRAP_MEMORY_OOB);                                 \
        if (WH_UNLIKELY(dst + sizeof v > msize)) {                       \
            ip++;   /* the store's trap site is one unit in */           \
            TRAP(WHARF_TRAP_MEMORY_OOB);                                 \
        }                                                                \
        memcpy(&v, mbase + src, sizeof v);                               \
        memcpy(mbase + dst, &v, sizeof v);                               \
        NEXT(7);                                                         \
    }
#define COPY(name, load, store, t) H_COPY(name, t)
#include "iops.def"
#define LOAD(name, t, n) H_LOAD(name, t, n)
#define STORE(name, t, n) H_STORE(name, t, n)
#include "iops.def"
}

wharf_status wh_interp_call(wh_exec *ex, wharf_func *f, wharf_slot *sp)
{
    return run(ex, f, sp, NULL);
}

void *const *wh_interp_handlers(void)
{
    void *const *t = NULL;
    run(NULL, NULL, NULL, &t);
    return t;
}
