/* base.c: the allocator hook, arenas, the clock and the full write
 * declared in base.h. */
#include "base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct wh_arena_chunk {
    wh_arena_chunk *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_MIN_CHUNK (64 * 1024 - sizeof(wh_arena_chunk))

void *wh_libc_alloc(void *user, void *ptr, size_t size)
{
    (void)user;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

void *wh_alloc(const wh_allocator *a, size_t size)
{
    void *p = a->fn(a->user, NULL, size ? size : 1);
    if (p)
        memset(p, 0, size);
    return p;
}

void *wh_realloc(const wh_allocator *a, void *p, size_t size)
{
    return a->fn(a->user, p, size ? size : 1);
}

void wh_free(const wh_allocator *a, void *p)
{
    if (p)
        a->fn(a->user, p, 0);
}

void wh_arena_init(wh_arena *a, const wh_allocator *alloc)
{
    a->alloc = alloc;
    a->head = NULL;
    a->used = a->cap = 0;
}

void *wh_arena_alloc(wh_arena *a, size_t size)
{
    if (size > SIZE_MAX - 15)   /* the rounding below would overflow */
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (!a->head || a->cap - a->used < size) {
        size_t cap = size > ARENA_MIN_CHUNK ? size : ARENA_MIN_CHUNK;
        if (cap > SIZE_MAX - sizeof(wh_arena_chunk))
            return NULL;
        wh_arena_chunk *c = a->alloc->fn(a->alloc->user, NULL,
                                         sizeof(wh_arena_chunk) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void wh_arena_free_all(wh_arena *a)
{
    wh_arena_chunk *c = a->head;
    while (c) {
        wh_arena_chunk *next = c->next;
        a->alloc->fn(a->alloc->user, c, 0);
        c = next;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}

uint64_t wh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool wh_write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        b += n;
        len -= (size_t)n;
    }
    return true;
}
