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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define OS_PAGE 4096u
/* Resident bytes a pooled memory keeps, cleared in place so the next
 * instance does not fault them in again (a fault costs ~2 us on the bench
 * machine, clearing a page ~0.1 us); past it they go back to the kernel.
 * The examples' guests touch 3 to 5 pages per request. */
#define KEEP_BYTES ((size_t)1 << 20)
/* Runs of pages cleared one by one; a memory touched in more places than
 * that is reset with one madvise instead. */
#define MAX_RUNS 32
/* Images from this size up are mapped copy-on-write from a memfd rather
 * than copied. Measured: at 256 KiB a copy (and clearing it at reset)
 * costs about what a mapping does (the map, a remap at reset, a fault per
 * page the guest touches); past it copying loses, and past KEEP_BYTES
 * badly, as the copied pages are then faulted in afresh every time. */
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
        e->npool--;
        memmove(&e->pool[pick], &e->pool[pick + 1],
                (e->npool - pick) * sizeof *e->pool);
        found = true;
    }
    pthread_mutex_unlock(&e->lock);
    return found;
}

/* Pushes a reset memory; a full pool gives up its oldest one, which no
 * instance may have wanted (a size nobody asks for any more). */
static void pool_put(wharf_engine *e, const wharf_memory *m)
{
    wh_rt_pooled old = { NULL, 0, 0 };
    pthread_mutex_lock(&e->lock);
    if (e->npool == e->cfg.memory_pool) {
        old = e->pool[0];
        e->npool--;
        memmove(&e->pool[0], &e->pool[1], e->npool * sizeof *e->pool);
    }
    e->pool[e->npool++] = (wh_rt_pooled){ m->base, m->reserved, m->size };
    pthread_mutex_unlock(&e->lock);
    if (old.base)
        munmap(old.base, old.reserved);
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
        return WHARF_ERR_NOMEM;   /* the caller maps a new one */
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
    wharf_status s = WHARF_ERR_NOMEM;
    if (pool && pool->cfg.memory_pool && pool_take(pool, reserve, &p))
        s = memory_reuse(&rm->mem, &p, commit);
    if (s != WHARF_OK)
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

/* PAGEMAP_SCAN (Linux 6.7): the pages of a range that are present or
 * swapped out, as a few ranges, in one page-table walk. Declared here
 * under our own names, as C library headers may predate it. */
struct wh_page_region { uint64_t start, end, categories; };
struct wh_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define WH_PAGEMAP_SCAN _IOWR('f', 16, struct wh_pm_scan_arg)
#define WH_PAGE_IS_PRESENT (1u << 3)
#define WH_PAGE_IS_SWAPPED (1u << 4)
#define WH_PAGE_IS_PFNZERO (1u << 5)

typedef struct reset {
    uint8_t *base;
    size_t kept, runs;
} reset;

/* Zeroes [off, off + len), all resident or all not. Resident pages (the
 * ones the guest touched) are cleared in place, so that the next instance
 * finds them mapped: a page fault costs more than clearing a page. Pages
 * that are not may be swapped out, and are dropped. False when the whole
 * memory had better be dropped instead (too many runs or resident bytes). */
static bool clear_run(reset *r, size_t off, size_t len, bool resident)
{
    if (++r->runs > MAX_RUNS)
        return false;
    if (!resident)
        return madvise(r->base + off, len, MADV_DONTNEED) == 0;
    if ((r->kept += len) > KEEP_BYTES)
        return false;
    memset(r->base + off, 0, len);
    return true;
}

/* Clears the first `len` bytes by the ranges PAGEMAP_SCAN reports: the
 * pages never touched (the most) cost nothing. -1 when the kernel cannot
 * scan, else whether it succeeded. */
static int clear_scanned(wharf_engine *e, reset *r, size_t len)
{
    struct wh_page_region regs[MAX_RUNS];
    uint64_t from = (uintptr_t)r->base, to = from + len;
    struct wh_pm_scan_arg a = {
        .size = sizeof a, .start = from, .end = to,
        .vec = (uintptr_t)regs, .vec_len = MAX_RUNS,
        .category_anyof_mask = WH_PAGE_IS_PRESENT | WH_PAGE_IS_SWAPPED,
        .return_mask = WH_PAGE_IS_PRESENT | WH_PAGE_IS_SWAPPED | WH_PAGE_IS_PFNZERO,
    };
    if (e->pagemap_fd < 0 || __atomic_load_n(&e->pagemap_broken, __ATOMIC_RELAXED))
        return -1;
    long n = ioctl(e->pagemap_fd, WH_PAGEMAP_SCAN, &a);
    if (n < 0) {
        __atomic_store_n(&e->pagemap_broken, true, __ATOMIC_RELAXED);
        return -1;
    }
    if (a.walk_end < to)
        return 0;                 /* more ranges than MAX_RUNS */
    for (long i = 0; i < n; i++) {
        const struct wh_page_region *g = &regs[i];
        /* The shared zero page: read, never written. */
        if (g->categories & WH_PAGE_IS_PFNZERO)
            continue;
        if (!clear_run(r, g->start - from, g->end - g->start,
                       g->categories & WH_PAGE_IS_PRESENT))
            return 0;
    }
    return 1;
}

/* The same with mincore, for kernels without PAGEMAP_SCAN: it reports
 * each page, resident or not, and cannot tell a page never touched from
 * one swapped out, so each run of absent pages is dropped too. */
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
                if (!clear_run(r, start * OS_PAGE, (at - start) * OS_PAGE, res))
                    return false;
                start = at;
                res = page;
            }
        }
    }
    return start == npages ||
           clear_run(r, start * OS_PAGE, (npages - start) * OS_PAGE, res);
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
    if (!len)
        return true;
    int done = clear_scanned(rm->pool, &r, len);
    if (done < 0)
        done = clear_touched(&r, len / OS_PAGE);
    return done || madvise(m->base, len, MADV_DONTNEED) == 0;
}

void wh_rt_memory_release(wh_rt_memory *rm)
{
    wharf_memory *m = &rm->mem;
    if (!m->base)
        return;
    if (rm->pool && rm->pool->cfg.memory_pool && memory_reset(rm))
        pool_put(rm->pool, m);
    else
        munmap(m->base, m->reserved);
    m->base = NULL;
}

bool wh_rt_pool_init(wharf_engine *e)
{
    e->pagemap_fd = -1;
    if (!e->cfg.memory_pool)
        return true;
    e->pool = wh_alloc(&e->alloc, (size_t)e->cfg.memory_pool * sizeof *e->pool);
    /* Without it (no /proc), resets fall back to mincore. */
    e->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    return e->pool != NULL;
}

void wh_rt_pool_free(wharf_engine *e)
{
    for (uint32_t i = 0; i < e->npool; i++)
        munmap(e->pool[i].base, e->pool[i].reserved);
    e->npool = 0;
    if (e->pagemap_fd >= 0)
        close(e->pagemap_fd);
    wh_free(&e->alloc, e->pool);
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
