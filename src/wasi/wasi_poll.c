/* wasi_poll.c: poll_oneoff, for clock and fd subscriptions.
 *
 * Clocks become deadlines on the host's monotonic clock (an absolute
 * realtime deadline is converted once, on entry). Regular files are always
 * ready, as poll(2) says; other fds go to ppoll(). Waits run in slices
 * against the absolute deadline, so they neither wake early nor drift, and
 * between slices the call's own deadline and interrupt flag are checked.
 * An fd that is not open or lacks the poll right is reported at once as an
 * event carrying the error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasiInt.h"

#define SUB_SIZE 48
#define EVENT_SIZE 32
#define NO_DEADLINE UINT64_MAX
enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };
enum { SUBCLOCK_ABSTIME = 1, EV_HANGUP = 1 };

/* One subscription and, once known, its outcome. */
typedef struct sub {
    uint64_t userdata;
    uint8_t type;
    uint64_t deadline;        /* clocks: monotonic ns */
    int pfd;                  /* fds: index into the pollfd array, or -1 */
    bool ready;
    uint16_t error, flags;
    uint64_t nbytes;
} sub;

static uint64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? NO_DEADLINE : a + b;
}

/* A clock subscription's deadline on the monotonic clock. Only the
 * realtime and monotonic clocks can be waited on (as in wasmtime). */
static int clock_deadline(wh_wasi_call *cx, uint32_t p, uint64_t *out)
{
    uint32_t id = wh_wasi_ld32(cx, p + 16);
    uint64_t timeout = wh_wasi_ld64(cx, p + 24);
    uint16_t flags = wh_wasi_ld16(cx, p + 40);
    uint64_t mono = now_ns(CLOCK_MONOTONIC);
    if (flags & ~SUBCLOCK_ABSTIME || id > 1)
        return WH_E_INVAL;
    if (!(flags & SUBCLOCK_ABSTIME))
        *out = add_sat(mono, timeout);
    else if (id == 1)
        *out = timeout;
    else {
        uint64_t real = now_ns(CLOCK_REALTIME);
        *out = timeout > real ? add_sat(mono, timeout - real) : mono;
    }
    return 0;
}

/* Bytes readable without blocking, where the host can tell. */
static uint64_t readable(const wh_wasi_fd *e)
{
    int n = 0;
    if (e->type == WH_FT_REG) {
        struct stat st;
        off_t pos = lseek(e->host, 0, SEEK_CUR);
        if (fstat(e->host, &st) == 0 && pos >= 0 && st.st_size > pos)
            return (uint64_t)(st.st_size - pos);
        return 0;
    }
    return ioctl(e->host, FIONREAD, &n) == 0 && n > 0 ? (uint64_t)n : 0;
}

/* Sets up an fd subscription: an immediate event, or a pollfd to watch. */
static void fd_sub(wh_wasi_call *cx, uint32_t fd, sub *s, struct pollfd *pfds,
                   int *npfd)
{
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, fd, WH_R_POLL_FD_READWRITE, &e);
    s->pfd = -1;
    if (r) {
        s->ready = true;
        s->error = (uint16_t)r;
    } else if (e->type == WH_FT_REG) {
        s->ready = true;
        s->nbytes = s->type == EV_FD_READ ? readable(e) : 0;
    } else {
        s->pfd = *npfd;
        pfds[*npfd].fd = e->host;
        pfds[*npfd].events = s->type == EV_FD_READ ? POLLIN : POLLOUT;
        pfds[(*npfd)++].revents = 0;
    }
}

/* Reads every subscription; *earliest gets the nearest clock deadline. */
static int parse(wh_wasi_call *cx, uint32_t in, uint32_t n, sub *subs,
                 struct pollfd *pfds, int *npfd, uint64_t *earliest)
{
    *earliest = NO_DEADLINE;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = in + i * SUB_SIZE;
        sub *s = &subs[i];
        memset(s, 0, sizeof *s);
        s->userdata = wh_wasi_ld64(cx, p);
        s->type = cx->mem[p + 8];
        s->pfd = -1;
        if (s->type == EV_CLOCK) {
            int r = clock_deadline(cx, p, &s->deadline);
            if (r)
                return r;
            if (s->deadline < *earliest)
                *earliest = s->deadline;
        } else if (s->type == EV_FD_READ || s->type == EV_FD_WRITE) {
            fd_sub(cx, wh_wasi_ld32(cx, p + 16), s, pfds, npfd);
        } else {
            return WH_E_INVAL;
        }
    }
    return 0;
}

static struct timespec to_ts(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    return ts;
}

/* Longest single wait, so an interrupt from another thread is noticed. */
#define SLICE_NS 50000000u

/* Waits for an fd or until `until` (monotonic ns) in one slice of at most
 * SLICE_NS; returns a WASI errno. */
static int wait_slice(struct pollfd *pfds, int npfd, uint64_t until)
{
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    uint64_t wait = until <= now ? 0 : until - now;
    struct timespec ts = to_ts(wait < SLICE_NS ? wait : SLICE_NS);
    if (ppoll(pfds, (nfds_t)npfd, &ts, NULL) >= 0 || errno == EINTR)
        return 0;
    return wh_wasi_errno(errno);
}

/* Blocks until an fd is ready or `deadline` passes; `now_ready` makes it a
 * non-blocking check. The call's own deadline and interrupts cut the wait
 * short with a trap (cx->status), so a sleeping guest cannot outlive its
 * timeout. */
static int block(wh_wasi_call *cx, struct pollfd *pfds, int npfd,
                 uint64_t deadline, bool now_ready)
{
    if (now_ready)
        return wait_slice(pfds, npfd, 0);
    for (;;) {
        int r = wait_slice(pfds, npfd, deadline);
        if (r)
            return r;
        for (int i = 0; i < npfd; i++)
            if (pfds[i].revents)
                return 0;
        if ((cx->status = wharf_caller_check(cx->caller)) != WHARF_OK)
            return 0;
        if (now_ns(CLOCK_MONOTONIC) >= deadline)
            return 0;
    }
}

/* Fills in the outcome of each watched fd from its revents. */
static void collect(sub *subs, uint32_t n, const struct pollfd *pfds)
{
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < n; i++) {
        sub *s = &subs[i];
        if (s->type == EV_CLOCK) {
            s->ready = s->deadline <= now;
            continue;
        }
        if (s->pfd < 0)
            continue;
        short re = pfds[s->pfd].revents;
        s->ready = re != 0;
        if (re & POLLNVAL)
            s->error = WH_E_BADF;
        else if (re & POLLERR)
            s->error = WH_E_IO;
        if (re & POLLHUP)
            s->flags = EV_HANGUP;
        if (s->ready && !s->error && s->type == EV_FD_READ) {
            int k = 0;
            s->nbytes = ioctl(pfds[s->pfd].fd, FIONREAD, &k) == 0 && k > 0
                      ? (uint64_t)k : 0;
        }
    }
}

static uint32_t put_events(wh_wasi_call *cx, const sub *subs, uint32_t n,
                           uint32_t out)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!subs[i].ready)
            continue;
        uint32_t p = out + k++ * EVENT_SIZE;
        memset(cx->mem + p, 0, EVENT_SIZE);
        wh_wasi_st64(cx, p, subs[i].userdata);
        wh_wasi_st16(cx, p + 8, subs[i].error);
        wh_wasi_st8(cx, p + 10, subs[i].type);
        wh_wasi_st64(cx, p + 16, subs[i].nbytes);
        wh_wasi_st16(cx, p + 24, subs[i].flags);
    }
    return k;
}

static int poll_oneoff(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t in = WH_A32(0), out = WH_A32(1), n = WH_A32(2), nev = WH_A32(3);
    if (n == 0)
        return WH_E_INVAL;
    if (!wh_wasi_ok(cx, in, (uint64_t)n * SUB_SIZE) ||
        !wh_wasi_ok(cx, out, (uint64_t)n * EVENT_SIZE) || !wh_wasi_ok(cx, nev, 4))
        return WH_E_FAULT;
    sub *subs = malloc(n * sizeof *subs);
    struct pollfd *pfds = malloc(n * sizeof *pfds);
    int npfd = 0, r = WH_E_NOMEM;
    uint64_t earliest;
    if (subs && pfds && !(r = parse(cx, in, n, subs, pfds, &npfd, &earliest))) {
        bool now_ready = false;
        for (uint32_t i = 0; i < n; i++)
            now_ready |= subs[i].ready;
        if (!(r = block(cx, pfds, npfd, earliest, now_ready)) && cx->status == WHARF_OK) {
            collect(subs, n, pfds);
            wh_wasi_st32(cx, nev, put_events(cx, subs, n, out));
        }
    }
    free(subs);
    free(pfds);
    return r;
}

const wh_wasi_func wh_wasi_poll_funcs[] = {
    { "poll_oneoff", "iiii", "i", poll_oneoff },
};
const size_t wh_wasi_poll_nfuncs = WH_ARRAY_LEN(wh_wasi_poll_funcs);
