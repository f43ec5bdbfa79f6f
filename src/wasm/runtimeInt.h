/* runtimeInt.h: what runtime.c (engine, module, externs, calls, limits)
 * and instance.c (linker, instantiation, exports) share privately.
 *
 * Memories and instances are allocated inside small wrappers that carry
 * what the public structs in wasmInt.h leave out: the allocator that frees
 * a host-created object, a memory's declared maximum (import matching needs
 * it even after the instance limit is folded into max_pages), and the
 * engine's list of instances kept alive after a failed instantiation. */
#ifndef WH_RUNTIME_INT_H
#define WH_RUNTIME_INT_H

#include "wasmInt.h"

#include <pthread.h>

typedef struct wh_rt_instance wh_rt_instance;

struct wharf_engine {
    wharf_config cfg;             /* zeros replaced by the defaults */
    wh_allocator alloc;
    /* Instances whose instantiation failed after their functions may have
     * escaped into imported tables (spec linking.wast): they stay alive
     * until the engine dies. The lock makes the engine shareable. */
    pthread_mutex_t lock;
    wh_rt_instance *zombies;
};

typedef struct wh_rt_memory {
    struct wharf_memory mem;
    const wh_allocator *alloc;    /* host-created: frees this struct; else NULL */
    bool has_max;                 /* the declared limits, for import matching */
    uint32_t max;
} wh_rt_memory;

struct wh_rt_instance {
    struct wharf_instance inst;
    wh_rt_instance *next_zombie;
    /* Owned index ranges, copied so a zombie can be freed after its module. */
    uint32_t table_from, ntables, memory_from, nmemories;
};

#define WH_CONTAINER(ptr, type, field) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

static inline wh_rt_memory *wh_rt_memory_of(wharf_memory *m)
{
    return WH_CONTAINER(m, wh_rt_memory, mem);
}

/* runtime.c */

/* Reserves address space for max_pages (never moves afterwards) and commits
 * min pages. NOMEM when the reservation or commit fails. */
wharf_status wh_rt_memory_init(wh_rt_memory *rm, uint32_t min, uint32_t max_pages,
                               bool has_max, uint32_t declared_max);
void wh_rt_memory_release(wh_rt_memory *rm);
/* Allocates `min` null elements. NOMEM past WH_MAX_TABLE or on failure. */
wharf_status wh_rt_table_init(wharf_table *t, const wh_allocator *a,
                              uint8_t reftype, uint32_t min, uint32_t max);
/* The public form of a value held in slots, and back. */
wharf_val wh_rt_val_get(uint8_t type, const wharf_slot *s);
void wh_rt_val_set(const wharf_val *v, wharf_slot *s);
/* Fills `err` as a trap without a function or offset. */
wharf_status wh_rt_trap_error(wharf_error *err, wharf_trap code);

/* instance.c */

/* Frees what a (possibly half-built) instance owns, then the instance. */
void wh_rt_instance_destroy(wh_rt_instance *ri);

#endif /* WH_RUNTIME_INT_H */
