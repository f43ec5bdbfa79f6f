/* runtimeInt.h: what runtime.c (engine, module, externs, calls, limits),
 * memory.c (linear memories, their pool, initial images) and instance.c
 * (linker, instantiation, exports) share privately.
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

/* A linear memory's mapping while it waits in the engine's pool. */
typedef struct wh_rt_pooled {
    uint8_t *base;
    size_t reserved;
    uint64_t size;                /* read/write bytes; the rest PROT_NONE */
} wh_rt_pooled;

struct wharf_engine {
    wharf_config cfg;             /* zeros replaced by the defaults */
    wh_allocator alloc;
    /* Instances whose instantiation failed after their functions may have
     * escaped into imported tables (spec linking.wast): they stay alive
     * until the engine dies. The lock makes the engine shareable; it also
     * guards the pool. */
    pthread_mutex_t lock;
    wh_rt_instance *zombies;
    /* Zeroed memories kept for reuse, cfg.memory_pool at most; a stack, so
     * the memory freed last (its pages likely cached) goes out first. */
    wh_rt_pooled *pool;
    uint32_t npool;
    int pagemap_fd;               /* /proc/self/pagemap, to find dirty pages */
    bool pagemap_broken;          /* the kernel has no PAGEMAP_SCAN */
};

typedef struct wh_rt_memory {
    struct wharf_memory mem;
    const wh_allocator *alloc;    /* host-created: frees this struct; else NULL */
    wharf_engine *pool;           /* returns to this engine's pool; NULL: unmapped */
    bool has_max;                 /* the declared limits, for import matching */
    uint32_t max;
    size_t cow_off, cow_len;      /* where an image is mapped copy-on-write */
} wh_rt_memory;

struct wh_rt_instance {
    struct wharf_instance inst;
    wh_rt_instance *next_zombie;
    void *user;                   /* wharf_instance_set_user */
    /* Owned index ranges, copied so a zombie can be freed after its module. */
    uint32_t table_from, ntables, memory_from, nmemories;
};

/* The initial contents of memory 0 made by a module's active data
 * segments, laid out once (memory.c). `usable` is false when the segments
 * cannot be applied in one step: an imported memory, an offset read from
 * a global, or a segment past the minimum size (which must trap). */
struct wh_rt_image {
    bool usable;
    uint32_t lo, hi;              /* the bytes [lo, hi) of the memory, */
    uint8_t *bytes;               /* copied from here, */
    int fd;                       /* or, when large, mapped from this memfd */
    size_t map_off, map_len;      /* (page-aligned; the file holds them) */
};

#define WH_CONTAINER(ptr, type, field) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

static inline wh_rt_memory *wh_rt_memory_of(wharf_memory *m)
{
    return WH_CONTAINER(m, wh_rt_memory, mem);
}

/* memory.c */

/* Reserves address space for max_pages (never moves afterwards) and commits
 * min pages, all zero: a memory from `pool`'s pool when it has one large
 * enough, else a new mapping. `pool` (NULL for none) is also where the
 * memory goes back on release. NOMEM when the reservation or commit fails. */
wharf_status wh_rt_memory_init(wh_rt_memory *rm, wharf_engine *pool, uint32_t min,
                               uint32_t max_pages, bool has_max, uint32_t declared_max);
/* Unmaps the memory, or resets it to zeros and keeps it in its pool. */
void wh_rt_memory_release(wh_rt_memory *rm);
/* Sets up the engine's pool (cfg.memory_pool set). False when out of
 * memory. wh_rt_pool_free unmaps the memories in it and frees it. */
bool wh_rt_pool_init(wharf_engine *e);
void wh_rt_pool_free(wharf_engine *e);
/* The module's image, built by the first caller (thread-safe); NULL when
 * out of memory. Freed by wh_rt_image_free with the module. */
const struct wh_rt_image *wh_rt_image_get(wharf_module *m);
void wh_rt_image_free(wharf_module *m);
/* Writes a usable image into a fresh memory (at least hi bytes long).
 * False when mapping it failed (out of memory). */
bool wh_rt_image_apply(const struct wh_rt_image *img, wh_rt_memory *rm);

/* runtime.c */

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
/* Evaluates a validated constant expression that reads no global and
 * names no function, so its value is the same in every instance; false
 * for any other. */
bool wh_rt_const_fixed(const wharf_module *m, wh_expr e, wharf_slot *out);

#endif /* WH_RUNTIME_INT_H */
