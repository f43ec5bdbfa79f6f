/* interpInt.h: the internal code format shared by compile.c (which writes
 * it) and interp.c (which runs it). Nothing outside these two files looks
 * inside a wh_compiled.
 *
 * Frame layout (in 64-bit slots, fp-relative; a v128 takes two):
 *
 *   fp[0 .. param_slots)            parameters (results on return)
 *   fp[param_slots .. rec)          declared locals, zeroed on entry
 *   fp[rec .. rec + WH_REC_SLOTS)   the call record: return ip, caller fp,
 *                                   caller's wh_compiled (all NULL for the
 *                                   frame entered from the host)
 *   fp[rec + WH_REC_SLOTS .. )      the operand stack, one fixed slot per
 *                                   wasm stack position
 *
 * `rec` is at least result_slots so results written to fp[0..] before a
 * return never overwrite the record. A call places its arguments in the
 * caller's operand area at `argbase`, which becomes the callee's fp, so
 * frames overlap and arguments are never copied.
 *
 * Every instruction names its operands as frame slots; see iops.def.
 */
#ifndef WH_INTERP_INT_H
#define WH_INTERP_INT_H

#include "wasmInt.h"

#define WH_REC_SLOTS 3

typedef enum wh_iop {
#define IOP(name, units) WH_IOP_##name,
#include "iops.def"
    WH_IOP_COUNT_
} wh_iop;

/* Maps an internal pc (unit index into code) of an instruction that can
 * trap to the module byte offset of the wasm instruction it came from.
 * Sorted by pc; consulted only on the trap path. */
typedef struct wh_trapsite { uint32_t pc, off; } wh_trapsite;

typedef struct wh_compiled wh_compiled;

struct wh_compiled {
    const uint32_t *code;
    uint32_t ncode;
    uint32_t funcidx;
    uint32_t param_slots;
    uint32_t local_slots;          /* declared locals only */
    uint32_t rec;                  /* slot of the call record */
    uint32_t frame_slots;          /* everything the frame touches */
    int32_t cost;                  /* ticks charged on entry */
    uint32_t ntraps;
    const wh_trapsite *traps;
};

/* The handler address of each internal op (labels in the dispatch loop:
 * process-wide constants, so compiled code stays shareable between
 * threads). Thread-safe. */
void *const *wh_interp_handlers(void);

#endif /* WH_INTERP_INT_H */
