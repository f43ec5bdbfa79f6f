/* pool.c: one thread's execution resources (wh_host_worker), made once
 * and reused by every request that thread runs:
 *
 *   - stdin is a memfd holding the request body, which guests read
 *     through a read-only fd; rewritten when the body changes, rewound
 *     per request;
 *   - stdout and stderr are non-blocking pipes. A pipe's capacity is the
 *     cap on what a guest may write: past it the guest's writes fail with
 *     EAGAIN instead of growing host memory, so a runaway writer costs
 *     nothing but its own time. The pipes are drained after each run;
 *   - function-executor instances kept for `instances: reuse`. Each holds
 *     a reference on its service, which a registry may have replaced
 *     since: such instances are dropped when the worker next uses the
 *     slot or sweeps (wh_host_worker_sweep).
 *
 * Nothing here is shared between threads. */
#define _GNU_SOURCE   /* memfd_create, pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pluginInt.h"
#include "serviceInt.h"

#define STDERR_PIPE_BYTES (64 * 1024)
#define STDERR_LOG_BYTES 1024     /* of a guest's stderr, per request */

static const wh_allocator libc_alloc = { wh_libc_alloc, NULL };

/* A pipe holding at least `bytes`; its real capacity goes to *cap. */
static bool make_pipe(int *rd, int *wr, size_t bytes, size_t *cap)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return false;
    *rd = fds[0];
    *wr = fds[1];
    /* The kernel rounds up to a power of two pages; an unprivileged
     * process is refused past /proc/sys/fs/pipe-max-size (1 MiB). */
    int got = bytes > INT32_MAX ? -1 : fcntl(*wr, F_SETPIPE_SZ, (int)bytes);
    *cap = got > 0 ? (size_t)got : 0;
    return got >= 0 && (size_t)got >= bytes;
}

/* The guest reads its stdin through a read-only open of the memfd, so it
 * cannot change the file: then an empty body after an empty body costs
 * no write. Without /proc it gets the writable fd, rewritten each time. */
static void open_stdin_guest(wh_host_worker *w)
{
    char path[48];
    snprintf(path, sizeof path, "/proc/self/fd/%d", w->stdin_fd);
    w->stdin_guest = open(path, O_RDONLY | O_CLOEXEC);
    if (w->stdin_guest < 0)
        w->stdin_guest = w->stdin_fd;
}

static bool open_stdio(wh_host_worker *w, char *err, size_t errlen)
{
    w->stdin_fd = memfd_create("wharf-stdin", MFD_CLOEXEC);
    if (w->stdin_fd < 0) {
        snprintf(err, errlen, "memfd_create: %s", strerror(errno));
        return false;
    }
    open_stdin_guest(w);
    size_t out = w->app->stdout_bytes ? w->app->stdout_bytes : 4096;
    if (!make_pipe(&w->out_rd, &w->out_wr, out, &w->out_pipe)) {
        snprintf(err, errlen, "cannot make a %zu-byte stdout pipe for WAGI "
                 "guests (limits.max_response; see /proc/sys/fs/pipe-max-size): %s",
                 out, errno ? strerror(errno) : "refused");
        return false;
    }
    size_t cap;
    if (!make_pipe(&w->err_rd, &w->err_wr, STDERR_PIPE_BYTES, &cap)) {
        snprintf(err, errlen, "cannot make a stderr pipe: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Linear memory bytes of a plugin's instance (0 while it is rebuilt). */
static uint64_t plugin_memory(wharf_plugin *p)
{
    size_t len = 0;
    if (p->inst)
        wharf_instance_memory(p->inst, &len);
    return len;
}

/* Frees the slot's plugin, if any, and lets go of its service, which
 * this may free: a retired version's last pooled instance. */
static void slot_clear(wh_host_slot *slot)
{
    if (!slot->plugin)
        return;
    wh_host_service *owner = slot->owner;
    if (slot->pooled) {
        WH_HOST_STAT_ADD(owner, pooled, -1);
        WH_HOST_STAT_ADD(owner, memory, -(int64_t)slot->memory);
    }
    wharf_plugin_free(slot->plugin);
    *slot = (wh_host_slot){ 0 };
    wh_host_service_unref(owner->root);
}

/* The worker's slot for `s`, growing the table as services are added at
 * run time; NULL when out of memory. */
static wh_host_slot *slot_of(wh_host_worker *w, const wh_host_service *s)
{
    if (s->index >= w->nslots) {
        int n = s->index + 8;
        wh_host_slot *more = realloc(w->slots, (size_t)n * sizeof *more);
        if (!more)
            return NULL;
        memset(more + w->nslots, 0, (size_t)(n - w->nslots) * sizeof *more);
        w->slots = more;
        w->nslots = n;
    }
    return &w->slots[s->index];
}

void wh_host_worker_sweep(wh_host_worker *w)
{
    for (int i = 0; i < w->nslots; i++) {
        wh_host_slot *slot = &w->slots[i];
        if (slot->plugin && __atomic_load_n(&slot->owner->root->retired, __ATOMIC_ACQUIRE))
            slot_clear(slot);
    }
}

wh_host_worker *wh_host_worker_new(wh_host_app *app, char *err, size_t errlen)
{
    wh_host_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->app = app;
    w->stdin_fd = w->stdin_guest = w->out_rd = w->out_wr = w->err_rd = w->err_wr = -1;
    wh_arena_init(&w->scratch, &libc_alloc);
    w->rng = wh_now_ns() ^ ((uint64_t)(uintptr_t)w << 16) ^ (uint64_t)getpid();
    errno = 0;
    if (!open_stdio(w, err, errlen))
        goto out_free;
    if (!wh_host_pool_reserve(w, 64 * 1024)) {
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    return w;
out_free:
    wh_host_worker_free(w);
    return NULL;
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

void wh_host_worker_free(wh_host_worker *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->nslots; i++)
        slot_clear(&w->slots[i]);
    free(w->slots);
    if (w->stdin_guest != w->stdin_fd)
        close_fd(w->stdin_guest);
    close_fd(w->stdin_fd);
    close_fd(w->out_rd);
    close_fd(w->out_wr);
    close_fd(w->err_rd);
    close_fd(w->err_wr);
    free(w->out);
    wh_arena_free_all(&w->scratch);
    free(w);
}

bool wh_host_pool_reserve(wh_host_worker *w, size_t len)
{
    if (len <= w->out_cap)
        return true;
    size_t cap = w->out_cap ? w->out_cap : 4096;
    while (cap < len)
        cap *= 2;
    uint8_t *p = realloc(w->out, cap);
    if (!p)
        return false;
    w->out = p;
    w->out_cap = cap;
    return true;
}

/* Reads the pipe until it is empty; bytes past `room` are dropped. The
 * guest has finished writing, so a short read means the pipe is empty:
 * most requests cost one read(2) per pipe. */
static size_t drain(int fd, uint8_t *buf, size_t room, size_t *total)
{
    uint8_t sink[4096];
    size_t kept = 0;
    *total = 0;
    for (;;) {
        bool keep = kept < room;
        size_t want = keep ? room - kept : sizeof sink;
        ssize_t n = read(fd, keep ? buf + kept : sink, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return kept;
        *total += (size_t)n;
        if (keep)
            kept += (size_t)n;
        if ((size_t)n < want)
            return kept;
    }
}

size_t wh_host_pool_drain_stdout(wh_host_worker *w, size_t max)
{
    size_t total, room = max < w->out_pipe ? max + 1 : w->out_pipe;
    if (!wh_host_pool_reserve(w, room))
        room = w->out_cap;
    size_t kept = drain(w->out_rd, w->out, room, &total);
    /* A full pipe means some writes may have failed: too much as well. */
    return total > max || total >= w->out_pipe ? SIZE_MAX : kept;
}

void wh_host_pool_drain_stderr(wh_host_worker *w, const wh_host_service *s)
{
    char buf[STDERR_LOG_BYTES];
    size_t total, kept = drain(w->err_rd, (uint8_t *)buf, sizeof buf, &total);
    if (!kept)
        return;
    while (kept && (buf[kept - 1] == '\n' || buf[kept - 1] == '\r'))
        kept--;
    char quoted[4 * STDERR_LOG_BYTES + 3];
    wh_host_log_quote(quoted, sizeof quoted, buf, kept);
    wh_host_log("info", "service=%s stderr=%s%s", s->conf->name, quoted,
                total > sizeof buf ? " truncated=true" : "");
}

bool wh_host_pool_set_stdin(wh_host_worker *w, const uint8_t *body, size_t len)
{
    bool guest_writable = w->stdin_guest == w->stdin_fd;
    if (!len && !w->stdin_len && !guest_writable)
        return lseek(w->stdin_guest, 0, SEEK_SET) == 0;
    w->stdin_len = SIZE_MAX;          /* unknown until written */
    if (ftruncate(w->stdin_fd, (off_t)len) != 0)
        return false;
    for (size_t done = 0; done < len;) {
        ssize_t n = pwrite(w->stdin_fd, body + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    w->stdin_len = len;
    return lseek(w->stdin_guest, 0, SEEK_SET) == 0;
}

wharf_plugin *wh_host_pool_plugin(wh_host_worker *w, wh_host_service *s,
                                  wharf_error *err)
{
    wh_host_slot *slot = slot_of(w, s);
    if (!slot) {
        *err = (wharf_error){ .status = WHARF_ERR_NOMEM, .message = "out of memory" };
        return NULL;
    }
    if (slot->plugin && slot->owner != s)
        slot_clear(slot);     /* an instance of an earlier version */
    if (slot->plugin)
        return slot->plugin;
    wharf_plugin *p = NULL;
    if (wharf_plugin_instantiate(s->plugin, &p, err) != WHARF_OK)
        return NULL;
    wh_host_service_ref(s->root);
    *slot = (wh_host_slot){ .plugin = p, .owner = s };
    return p;
}

void wh_host_pool_release(wh_host_worker *w, wh_host_service *s,
                          wharf_plugin *p, bool ok)
{
    wh_host_slot *slot = &w->slots[s->index];
    wh_host_note_usage(s, p->inst);
    /* A plugin that failed may hold inconsistent state: never reuse it. */
    bool keep = ok && s->conf->reuse && ++slot->uses < s->conf->reuse &&
                !__atomic_load_n(&s->root->retired, __ATOMIC_ACQUIRE);
    if (!keep) {
        slot_clear(slot);
        return;
    }
    uint64_t mem = plugin_memory(p);
    WH_HOST_STAT_ADD(s, pooled, slot->pooled ? 0 : 1);
    WH_HOST_STAT_ADD(s, memory, (int64_t)mem - (int64_t)slot->memory);
    slot->pooled = true;
    slot->memory = mem;
}
