/* memory.c: linear memories: their address-space reservation and growth,
 * the engine's pool of memories kept for reuse, and modules' initial
 * memory images (the active data segments laid out once, then copied or
 * mapped copy-on-write into each new instance's memory 0).
 *
 * Invariants: a memory never moves; its bytes [0, size) are read/write
 * and the rest of the reservation is PROT_NONE; a memory handed out
 * (new or from the pool) is all zeros, so the pages memory.grow adds read
 * as zero either way. A reused memory must never show a byte of the
 * instance that had it before: memory_reset is the one place that
 * guarantees it. */
#define _GNU_SOURCE   /* memfd_create */
#include "runtimeInt.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define OS_PAGE 4096u
/* Resident bytes a pooled memory keeps, cleared in place so the next
 * instance does not fault them in again; past it they go back to the
 * kernel. Few guests touch more per request (hello touches ~40 KiB). */
#define KEEP_BYTES ((size_t)1 << 20)
/* Runs of pages cleared one by one; a memory touched in more places than
 * that is reset with one madvise instead. */
#define MAX_RUNS 32
/* Images from this size up are mapped copy-on-write from a memfd rather
 * than copied: mapping costs a few microseconds plus a fault per page the
 * guest touches, copying ~1 us per 16 KiB every time. */
#define MAP_IMAGE_BYTES ((size_t)256 << 10)

static size_t page_up(size_t n)
{
    return (n + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
}

/* ---- Reservations ------------------------------------------------------ */

static wharf_status memory_map(wharf_memory *m, size_t reserve, size_t commit)
{
    void *p = mmap(NULL, reserve, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return WHARF_ERR_NOMEM;
    if (commit && mprotect(p, commit, PROT_READ | PROT_WRITE) != 0) {
        munmap(p, reserve);
        return WHARF_ERR_NOMEM;
    }
    m->base = p;
    m->reserved = reserve;
    m->size = commit;
    return WHARF_OK;
}

/* Takes a pooled mapping of at least `reserve` bytes, preferring one of
 * exactly that size (the same module's, most likely). */
static bool pool_take(wharf_engine *e, size_t reserve, wh_rt_pooled *out)
{
    bool found = false;
    pthread_mutex_lock(&e->lock);
    uint32_t pick = e->npool;
    for (uint32_t i = e->npool; i-- > 0;) {
        if (e->pool[i].reserved == reserve) {
            pick = i;
            break;
        }
        if (e->pool[i].reserved > reserve && pick == e->npool)
            pick = i;
    }
    if (pick < e->npool) {
        *out = e->pool[pick];
        e->pool[pick] = e->pool[--e->npool];
        found = true;
    }
    pthread_mutex_unlock(&e->lock);
    return found;
}

static bool pool_put(wharf_engine *e, const wharf_memory *m)
{
    bool kept = false;
    pthread_mutex_lock(&e->lock);
    if (e->npool < e->cfg.memory_pool) {
        e->pool[e->npool++] = (wh_rt_pooled){ m->base, m->reserved, m->size };
        kept = true;
    }
    pthread_mutex_unlock(&e->lock);
    return kept;
}

/* A pooled mapping, its read/write part resized to `commit` bytes. */
static wharf_status memory_reuse(wharf_memory *m, const wh_rt_pooled *p, size_t commit)
{
    int r = 0;
    if (p->size < commit)
        r = mprotect(p->base + p->size, commit - p->size, PROT_READ | PROT_WRITE);
    else if (p->size > commit)
        r = mprotect(p->base + commit, p->size - commit, PROT_NONE);
    if (r != 0) {
        munmap(p->base, p->reserved);
        return WHARF_ERR_NOMEM;
    }
    m->base = p->base;
    m->reserved = p->reserved;
    m->size = commit;
    return WHARF_OK;
}

wharf_status wh_rt_memory_init(wh_rt_memory *rm, wharf_engine *pool, uint32_t min,
                               uint32_t max_pages, bool has_max, uint32_t declared_max)
{
    /* At least one page of address space, so base is never NULL even for
     * a zero-sized memory (memcpy of 0 bytes at base stays defined). */
    size_t reserve = (size_t)(max_pages ? max_pages : 1) * WH_PAGE_SIZE;
    size_t commit = (size_t)min * WH_PAGE_SIZE;
    wh_rt_pooled p;
    wharf_status s;
    if (pool && pool->cfg.memory_pool && pool_take(pool, reserve, &p))
        s = memory_reuse(&rm->mem, &p, commit);
    else
        s = memory_map(&rm->mem, reserve, commit);
    if (s != WHARF_OK)
        return s;
    rm->mem.pages = min;
    rm->mem.max_pages = max_pages;
    rm->pool = pool;
    rm->has_max = has_max;
    rm->max = declared_max;
    rm->cow_off = rm->cow_len = 0;
    return WHARF_OK;
}

/* ---- Reset ------------------------------------------------------------- */

typedef struct reset {
    uint8_t *base;
    size_t kept, runs;
} reset;

/* Zeroes the pages [from, to), all resident or all absent. Resident pages
 * (the ones the guest touched) are cleared in place, so that the next
 * instance finds them mapped: a page fault costs more than clearing a
 * page. Absent pages were never touched, or were swapped out: dropping
 * them costs little when there are none. False when the whole memory had
 * better be dropped instead (too many runs or resident bytes). */
static bool clear_run(reset *r, size_t from, size_t to, bool resident)
{
    size_t off = from * OS_PAGE, len = (to - from) * OS_PAGE;
    if (++r->runs > MAX_RUNS)
        return false;
    if (!resident)
        return madvise(r->base + off, len, MADV_DONTNEED) == 0;
    if ((r->kept += len) > KEEP_BYTES)
        return false;
    memset(r->base + off, 0, len);
    return true;
}

/* Clears the first `npages` pages run by run, as mincore reports them. */
static bool clear_touched(reset *r, size_t npages)
{
    unsigned char vec[1024];
    size_t start = 0;
    bool res = false;
    for (size_t at = 0; at < npages;) {
        size_t n = npages - at < sizeof vec ? npages - at : sizeof vec;
        if (mincore(r->base + at * OS_PAGE, n * OS_PAGE, vec) != 0)
            return false;
        for (size_t i = 0; i < n; i++, at++) {
            bool page = vec[i] & 1;
            if (at == start) {
                res = page;
            } else if (page != res) {
                if (!clear_run(r, start, at, res))
                    return false;
                start = at;
                res = page;
            }
        }
    }
    return start == npages || clear_run(r, start, npages, res);
}

/* Makes every byte of the memory zero again, keeping its mapping. */
static bool memory_reset(wh_rt_memory *rm)
{
    wharf_memory *m = &rm->mem;
    if (rm->cow_len) {
        /* Replaces the image's private copy with fresh anonymous pages. */
        void *p = mmap(m->base + rm->cow_off, rm->cow_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return false;
        rm->cow_len = 0;
    }
    size_t len = page_up((size_t)m->size);
    reset r = { m->base, 0, 0 };
    if (!len || clear_touched(&r, len / OS_PAGE))
        return true;
    return madvise(m->base, len, MADV_DONTNEED) == 0;
}

void wh_rt_memory_release(wh_rt_memory *rm)
{
    wharf_memory *m = &rm->mem;
    if (!m->base)
        return;
    bool kept = rm->pool && rm->pool->cfg.memory_pool && memory_reset(rm) &&
                pool_put(rm->pool, m);
    if (!kept)
        munmap(m->base, m->reserved);
    m->base = NULL;
}

void wh_rt_pool_drain(wharf_engine *e)
{
    for (uint32_t i = 0; i < e->npool; i++)
        munmap(e->pool[i].base, e->pool[i].reserved);
    e->npool = 0;
}

/* ---- Growth and host-created memories ------------------------------------ */

int32_t wh_rt_memory_grow(wharf_memory *m, uint32_t delta)
{
    uint32_t old = m->pages;
    if (delta > m->max_pages - old)
        return -1;
    if (delta == 0)
        return (int32_t)old;
    /* The pages beyond size are zero (fresh, or reset in the pool), as
     * memory.grow requires. */
    if (mprotect(m->base + m->size, (size_t)delta * WH_PAGE_SIZE,
                 PROT_READ | PROT_WRITE) != 0)
        return -1;
    m->pages = old + delta;
    m->size = (uint64_t)m->pages * WH_PAGE_SIZE;
    return (int32_t)old;
}

wharf_status wharf_memory_new(wharf_engine *e, uint32_t min_pages,
                              uint32_t max_pages, bool has_max,
                              WHARF_OWN wharf_memory **out)
{
    *out = NULL;
    uint32_t limit = (uint32_t)(e->cfg.max_memory_bytes / WH_PAGE_SIZE);
    if (min_pages > WH_MAX_PAGES || (has_max && (max_pages < min_pages ||
                                                 max_pages > WH_MAX_PAGES)))
        return WHARF_ERR_ARG;
    uint32_t cap = has_max && max_pages < limit ? max_pages : limit;
    if (min_pages > cap)
        return WHARF_ERR_NOMEM;
    wh_rt_memory *rm = wh_alloc(&e->alloc, sizeof *rm);
    if (!rm)
        return WHARF_ERR_NOMEM;
    /* Not pooled: a host memory may be shared, and outlive its users. */
    wharf_status s = wh_rt_memory_init(rm, NULL, min_pages, cap, has_max, max_pages);
    if (s != WHARF_OK) {
        wh_free(&e->alloc, rm);
        return s;
    }
    rm->alloc = &e->alloc;
    *out = &rm->mem;
    return WHARF_OK;
}

void wharf_memory_free(WHARF_OWN wharf_memory *m)
{
    if (!m)
        return;
    wh_rt_memory *rm = wh_rt_memory_of(m);
    wh_rt_memory_release(rm);
    wh_free(rm->alloc, rm);
}

uint8_t *wharf_memory_data(wharf_memory *m, size_t *len)
{
    *len = (size_t)m->size;
    return m->base;
}

/* ---- Initial images ------------------------------------------------------ */

/* The byte range the active segments cover, or false when they cannot
 * make an image (see struct wh_rt_image). */
static bool image_range(const wharf_module *m, uint32_t *lo, uint32_t *hi)
{
    if (!m->nmemories || m->nmemory_imports)
        return false;
    uint64_t limit = (uint64_t)m->memories[0].limits.min * WH_PAGE_SIZE;
    uint64_t l = UINT64_MAX, h = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wh_data *d = &m->datas[i];
        wharf_slot off;
        if (d->mode != WH_SEG_ACTIVE)
            continue;
        if (d->memory != 0 || !wh_rt_const_fixed(m, d->offset, &off))
            return false;
        uint64_t at = (uint32_t)off, end = at + d->len;
        if (end > limit)
            return false;
        if (d->len && at < l)
            l = at;
        if (end > h)
            h = end;
    }
    *lo = l < h ? (uint32_t)l : 0;
    *hi = l < h ? (uint32_t)h : 0;
    return true;
}

/* Lays the segments out in order (a later one overwrites an earlier one,
 * as instantiation would) into buf, which holds the memory from `base`. */
static void image_fill(const wharf_module *m, uint8_t *buf, uint32_t base)
{
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wh_data *d = &m->datas[i];
        wharf_slot off;
        if (d->mode == WH_SEG_ACTIVE && d->len &&
            WH_ALWAYS(wh_rt_const_fixed(m, d->offset, &off)))
            memcpy(buf + ((uint32_t)off - base), m->bytes + d->off, d->len);
    }
}

/* A sealed memfd holding the image's pages, for mapping copy-on-write. */
static bool image_memfd(const wharf_module *m, struct wh_rt_image *img)
{
    img->map_off = img->lo & ~(size_t)(OS_PAGE - 1);
    img->map_len = page_up(img->hi) - img->map_off;
    int fd = memfd_create("wharf-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return false;
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)img->map_len) == 0)
        p = mmap(NULL, img->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
        image_fill(m, p, (uint32_t)img->map_off);
        munmap(p, img->map_len);
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0) {
            img->fd = fd;
            return true;
        }
    }
    close(fd);
    return false;
}

static struct wh_rt_image *image_build(wharf_module *m)
{
    struct wh_rt_image *img = wh_alloc(&m->engine->alloc, sizeof *img);
    if (!img)
        return NULL;
    img->fd = -1;
    img->usable = image_range(m, &img->lo, &img->hi);
    size_t len = img->hi - img->lo;
    if (!img->usable || !len)
        return img;
    if (len >= MAP_IMAGE_BYTES && image_memfd(m, img))
        return img;
    img->bytes = wh_alloc(&m->engine->alloc, len);
    if (!img->bytes) {
        wh_free(&m->engine->alloc, img);
        return NULL;
    }
    image_fill(m, img->bytes, img->lo);
    return img;
}

static void image_destroy(wharf_engine *e, struct wh_rt_image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    wh_free(&e->alloc, img->bytes);
    wh_free(&e->alloc, img);
}

const struct wh_rt_image *wh_rt_image_get(wharf_module *m)
{
    struct wh_rt_image *img = __atomic_load_n(&m->image, __ATOMIC_ACQUIRE);
    if (img)
        return img;
    img = image_build(m);
    if (!img)
        return NULL;
    /* Two threads may build it at once: the first to publish wins. */
    struct wh_rt_image *none = NULL;
    if (__atomic_compare_exchange_n(&m->image, &none, img, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return img;
    image_destroy(m->engine, img);
    return none;
}

void wh_rt_image_free(wharf_module *m)
{
    if (m->image)
        image_destroy(m->engine, m->image);
    m->image = NULL;
}

bool wh_rt_image_apply(const struct wh_rt_image *img, wh_rt_memory *rm)
{
    uint8_t *base = rm->mem.base;
    if (img->bytes) {
        memcpy(base + img->lo, img->bytes, img->hi - img->lo);
        return true;
    }
    if (img->fd < 0)
        return true;
    /* Recorded first: a failed MAP_FIXED may have unmapped the range, and
     * the reset puts anonymous memory back over it either way. */
    rm->cow_off = img->map_off;
    rm->cow_len = img->map_len;
    return mmap(base + img->map_off, img->map_len, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_FIXED, img->fd, 0) != MAP_FAILED;
}
