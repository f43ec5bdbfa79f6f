/* plugin_mem.c: the call memory of a plugin, which Extism keeps in a
 * separate wasm module (its "kernel") and we keep natively: one host
 * buffer plus a side table of blocks sorted by offset.
 *
 * Allocation bumps at the top unless a freed block is large enough (first
 * fit, never split: the memory is reset before every call, so fragmentation
 * lives at most one call). Block metadata stays out of the buffer, so a
 * plugin writing past a block cannot corrupt the allocator. Offsets are
 * 8-byte aligned, so the PDKs' u64 loads and stores stay aligned.
 */
#include <stdlib.h>
#include <string.h>

#include "pluginInt.h"

void wh_host_mem_init(wh_host_mem *m, uint64_t limit)
{
    memset(m, 0, sizeof *m);
    m->limit = limit;
    m->top = WH_HOST_MEM_BASE;
}

void wh_host_mem_release(wh_host_mem *m)
{
    free(m->data);
    free(m->blocks);
    wh_host_mem_init(m, m->limit);
}

void wh_host_mem_reset(wh_host_mem *m)
{
    m->top = WH_HOST_MEM_BASE;
    m->nblocks = 0;
    m->nfree = 0;
}

/* Grows the buffer to hold `need` bytes, at least doubling so a call that
 * allocates many small blocks reallocates O(log n) times. */
static bool reserve_bytes(wh_host_mem *m, uint64_t need)
{
    if (need <= m->cap)
        return true;
    uint64_t cap = m->cap ? m->cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > m->limit)
        cap = m->limit;
    if (cap < need || cap > SIZE_MAX)
        return false;
    uint8_t *p = realloc(m->data, (size_t)cap);
    if (!p)
        return false;
    m->data = p;
    m->cap = cap;
    return true;
}

static bool reserve_block(wh_host_mem *m)
{
    if (m->nblocks < m->capblocks)
        return true;
    uint32_t cap = m->capblocks ? m->capblocks * 2 : 64;
    wh_host_block *b = realloc(m->blocks, (size_t)cap * sizeof *b);
    if (!b)
        return false;
    m->blocks = b;
    m->capblocks = cap;
    return true;
}

/* First fit among freed blocks; O(blocks), taken only when some exist. */
static wh_host_block *reuse(wh_host_mem *m, uint64_t n)
{
    for (uint32_t i = 0; i < m->nblocks; i++) {
        wh_host_block *b = &m->blocks[i];
        if (b->state == WH_BLK_FREE && b->cap >= n) {
            m->nfree--;
            return b;
        }
    }
    return NULL;
}

uint64_t wh_host_mem_alloc(wh_host_mem *m, uint64_t n)
{
    if (n == 0 || n > m->limit)
        return 0;
    wh_host_block *b = m->nfree ? reuse(m, n) : NULL;
    if (!b) {
        uint64_t cap = (n + 7) & ~(uint64_t)7;
        if (cap > m->limit - m->top || !reserve_bytes(m, m->top + cap) ||
            !reserve_block(m))
            return 0;
        b = &m->blocks[m->nblocks++];
        b->off = m->top;
        b->cap = cap;
        m->top += cap;
    }
    b->len = n;
    b->state = WH_BLK_ACTIVE;
    b->pinned = false;
    return b->off;
}

/* The index of the last block starting at or before `off`, or -1. */
static int64_t find_at_or_before(const wh_host_mem *m, uint64_t off)
{
    int64_t lo = 0, hi = (int64_t)m->nblocks - 1, found = -1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m->blocks[mid].off <= off) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

wh_host_block *wh_host_mem_block(wh_host_mem *m, uint64_t h)
{
    int64_t i = find_at_or_before(m, h);
    if (i < 0)
        return NULL;
    wh_host_block *b = &m->blocks[i];
    return b->off == h && b->state == WH_BLK_ACTIVE ? b : NULL;
}

void wh_host_mem_free(wh_host_mem *m, uint64_t h)
{
    wh_host_block *b = wh_host_mem_block(m, h);
    if (!b)
        return;
    /* A pinned block still holds the output, which the host reads after
     * the call: it is retired, never handed out again this call. */
    if (b->pinned) {
        b->state = WH_BLK_RETIRED;
        return;
    }
    b->state = WH_BLK_FREE;
    m->nfree++;
}

void wh_host_mem_pin(wh_host_mem *m, uint64_t off, uint64_t n)
{
    int64_t i = find_at_or_before(m, off);
    if (i < 0)
        return;
    for (; (uint32_t)i < m->nblocks && m->blocks[i].off < off + n; i++) {
        wh_host_block *b = &m->blocks[i];
        b->pinned = true;
        if (b->state == WH_BLK_FREE) {
            /* Output set from a freed block: keep it from reuse too. */
            b->state = WH_BLK_RETIRED;
            m->nfree--;
        }
    }
}
