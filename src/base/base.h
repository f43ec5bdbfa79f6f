/* base.h: the small shared toolkit every module may use: branch hints,
 * can't-happen checks, the allocator hook and per-lifetime arenas.
 * Knows nothing of WebAssembly. */
#ifndef WH_BASE_H
#define WH_BASE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WH_LIKELY(x) __builtin_expect(!!(x), 1)
#define WH_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Can't-happen-but-recover checks (SQLite's ALWAYS/NEVER): they assert in
 * debug builds and evaluate to the condition in release builds, so the
 * caller still takes the safe path. */
#ifdef NDEBUG
#define WH_ALWAYS(x) (x)
#define WH_NEVER(x) (x)
#else
#define WH_ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define WH_NEVER(x) ((x) ? (assert(!#x), 1) : 0)
#endif

#define WH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The allocator hook: realloc semantics, size 0 frees and returns NULL. */
typedef struct wh_allocator {
    void *(*fn)(void *user, void *ptr, size_t size);
    void *user;
} wh_allocator;

void *wh_libc_alloc(void *user, void *ptr, size_t size);
void *wh_alloc(const wh_allocator *a, size_t size);        /* zeroed */
void *wh_realloc(const wh_allocator *a, void *p, size_t size);
void wh_free(const wh_allocator *a, void *p);

/* An arena: many allocations freed at once when their owner dies. Nothing
 * in an arena is freed one object at a time. Allocations are zeroed and
 * 16-byte aligned. Not thread-safe. */
typedef struct wh_arena_chunk wh_arena_chunk;
typedef struct wh_arena {
    const wh_allocator *alloc;
    wh_arena_chunk *head;
    size_t used, cap;       /* in the head chunk */
} wh_arena;

void wh_arena_init(wh_arena *a, const wh_allocator *alloc);
void *wh_arena_alloc(wh_arena *a, size_t size);   /* NULL when out of memory */
void wh_arena_free_all(wh_arena *a);

/* Monotonic clock in nanoseconds. */
uint64_t wh_now_ns(void);

/* Writes all `len` bytes to `fd`, past short writes and EINTR; false with
 * errno set when a write fails. */
bool wh_write_all(int fd, const void *p, size_t len);

#endif /* WH_BASE_H */
