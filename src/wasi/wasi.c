/* wasi.c: the WASI preview1 state and its glue to a wharf linker, plus the
 * small functions: args_*, environ_*, clock_*, random_get, proc_exit,
 * proc_raise and sched_yield. The fd table lives in wasi_fd.c, paths in
 * wasi_path.c, poll_oneoff in wasi_poll.c, sockets in wasi_sock.c.
 *
 * Every function table row is bound to its wh_wasi through one binding
 * (the host function's `user` pointer): directly, or for a linker shared
 * by many instances through the calling instance's user pointer.
 * dispatch() fetches the guest memory once per call and stores the errno
 * result in slot 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "wasiInt.h"

typedef struct wh_wasi_binding {
    wh_wasi *w;                       /* NULL when shared: then get() */
    wh_wasi *(*get)(void *inst_user); /* wh_wasi_define_shared */
    const wh_wasi_func *f;
} wh_wasi_binding;

/* ---- Guest memory helpers ----------------------------------------------- */

int wh_wasi_put32(wh_wasi_call *cx, uint32_t ptr, uint32_t v)
{
    if (!wh_wasi_ok(cx, ptr, 4))
        return WH_E_FAULT;
    wh_wasi_st32(cx, ptr, v);
    return 0;
}

int wh_wasi_put64(wh_wasi_call *cx, uint32_t ptr, uint64_t v)
{
    if (!wh_wasi_ok(cx, ptr, 8))
        return WH_E_FAULT;
    wh_wasi_st64(cx, ptr, v);
    return 0;
}

/* ---- Errno mapping ------------------------------------------------------ */

int wh_wasi_errno(int e)
{
    switch (e) {
    case 0: return WH_E_SUCCESS;
    case E2BIG: return WH_E_2BIG;
    case EACCES: return WH_E_ACCES;
    case EADDRINUSE: return WH_E_ADDRINUSE;
    case EADDRNOTAVAIL: return WH_E_ADDRNOTAVAIL;
    case EAFNOSUPPORT: return WH_E_AFNOSUPPORT;
    case EAGAIN: return WH_E_AGAIN;
    case EALREADY: return WH_E_ALREADY;
    case EBADF: return WH_E_BADF;
    case EBADMSG: return WH_E_BADMSG;
    case EBUSY: return WH_E_BUSY;
    case ECANCELED: return WH_E_CANCELED;
    case ECHILD: return WH_E_CHILD;
    case ECONNABORTED: return WH_E_CONNABORTED;
    case ECONNREFUSED: return WH_E_CONNREFUSED;
    case ECONNRESET: return WH_E_CONNRESET;
    case EDEADLK: return WH_E_DEADLK;
    case EDESTADDRREQ: return WH_E_DESTADDRREQ;
    case EDOM: return WH_E_DOM;
    case EDQUOT: return WH_E_DQUOT;
    case EEXIST: return WH_E_EXIST;
    case EFAULT: return WH_E_FAULT;
    case EFBIG: return WH_E_FBIG;
    case EHOSTUNREACH: return WH_E_HOSTUNREACH;
    case EIDRM: return WH_E_IDRM;
    case EILSEQ: return WH_E_ILSEQ;
    case EINPROGRESS: return WH_E_INPROGRESS;
    case EINTR: return WH_E_INTR;
    case EINVAL: return WH_E_INVAL;
    case EIO: return WH_E_IO;
    case EISCONN: return WH_E_ISCONN;
    case EISDIR: return WH_E_ISDIR;
    case ELOOP: return WH_E_LOOP;
    case EMFILE: return WH_E_MFILE;
    case EMLINK: return WH_E_MLINK;
    case EMSGSIZE: return WH_E_MSGSIZE;
    case EMULTIHOP: return WH_E_MULTIHOP;
    case ENAMETOOLONG: return WH_E_NAMETOOLONG;
    case ENETDOWN: return WH_E_NETDOWN;
    case ENETRESET: return WH_E_NETRESET;
    case ENETUNREACH: return WH_E_NETUNREACH;
    case ENFILE: return WH_E_NFILE;
    case ENOBUFS: return WH_E_NOBUFS;
    case ENODEV: return WH_E_NODEV;
    case ENOENT: return WH_E_NOENT;
    case ENOEXEC: return WH_E_NOEXEC;
    case ENOLCK: return WH_E_NOLCK;
    case ENOLINK: return WH_E_NOLINK;
    case ENOMEM: return WH_E_NOMEM;
    case ENOMSG: return WH_E_NOMSG;
    case ENOPROTOOPT: return WH_E_NOPROTOOPT;
    case ENOSPC: return WH_E_NOSPC;
    case ENOSYS: return WH_E_NOSYS;
    case ENOTCONN: return WH_E_NOTCONN;
    case ENOTDIR: return WH_E_NOTDIR;
    case ENOTEMPTY: return WH_E_NOTEMPTY;
    case ENOTRECOVERABLE: return WH_E_NOTRECOVERABLE;
    case ENOTSOCK: return WH_E_NOTSOCK;
    case EOPNOTSUPP: return WH_E_NOTSUP;
    case ENOTTY: return WH_E_NOTTY;
    case ENXIO: return WH_E_NXIO;
    case EOVERFLOW: return WH_E_OVERFLOW;
    case EOWNERDEAD: return WH_E_OWNERDEAD;
    case EPERM: return WH_E_PERM;
    case EPIPE: return WH_E_PIPE;
    case EPROTO: return WH_E_PROTO;
    case EPROTONOSUPPORT: return WH_E_PROTONOSUPPORT;
    case EPROTOTYPE: return WH_E_PROTOTYPE;
    case ERANGE: return WH_E_RANGE;
    case EROFS: return WH_E_ROFS;
    case ESPIPE: return WH_E_SPIPE;
    case ESRCH: return WH_E_SRCH;
    case ESTALE: return WH_E_STALE;
    case ETIMEDOUT: return WH_E_TIMEDOUT;
    case ETXTBSY: return WH_E_TXTBSY;
    case EXDEV: return WH_E_XDEV;
    default: return WH_E_IO;
    }
}

/* ---- args and environ --------------------------------------------------- */

/* Writes `n` strings as a pointer array at `vec` and NUL-terminated bytes
 * at `buf` (the layout args_get and environ_get share). */
static int put_strings(wh_wasi_call *cx, char *const *s, int n, size_t bytes,
                       uint32_t vec, uint32_t buf)
{
    if (!wh_wasi_ok(cx, vec, (uint64_t)n * 4) || !wh_wasi_ok(cx, buf, bytes))
        return WH_E_FAULT;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(s[i]) + 1;
        wh_wasi_st32(cx, vec + 4 * (uint32_t)i, buf);
        memcpy(cx->mem + buf, s[i], len);
        buf += (uint32_t)len;
    }
    return 0;
}

static int put_sizes(wh_wasi_call *cx, int n, size_t bytes, uint32_t np,
                     uint32_t bp)
{
    int r = wh_wasi_put32(cx, np, (uint32_t)n);
    return r ? r : wh_wasi_put32(cx, bp, (uint32_t)bytes);
}

static int args_get(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi *w = cx->w;
    return put_strings(cx, w->argv, w->argc, w->argv_bytes, WH_A32(0), WH_A32(1));
}

static int args_sizes_get(wh_wasi_call *cx, const wharf_slot *a)
{
    return put_sizes(cx, cx->w->argc, cx->w->argv_bytes, WH_A32(0), WH_A32(1));
}

static int environ_get(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi *w = cx->w;
    return put_strings(cx, w->env, w->nenv, w->env_bytes, WH_A32(0), WH_A32(1));
}

static int environ_sizes_get(wh_wasi_call *cx, const wharf_slot *a)
{
    return put_sizes(cx, cx->w->nenv, cx->w->env_bytes, WH_A32(0), WH_A32(1));
}

/* ---- Clocks, random, process -------------------------------------------- */

static bool host_clock(uint32_t id, clockid_t *out)
{
    static const clockid_t ids[] = {
        CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
        CLOCK_THREAD_CPUTIME_ID,
    };
    if (id >= 4)
        return false;
    *out = ids[id];
    return true;
}

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static int clock_res_get(wh_wasi_call *cx, const wharf_slot *a)
{
    clockid_t id;
    struct timespec ts;
    if (!host_clock(WH_A32(0), &id))
        return WH_E_INVAL;
    if (clock_getres(id, &ts) != 0)
        return wh_wasi_errno(errno);
    return wh_wasi_put64(cx, WH_A32(1), ts_ns(&ts));
}

/* The precision argument is a hint; the host clock is always exact. */
static int clock_time_get(wh_wasi_call *cx, const wharf_slot *a)
{
    clockid_t id;
    struct timespec ts;
    if (!host_clock(WH_A32(0), &id))
        return WH_E_INVAL;
    if (clock_gettime(id, &ts) != 0)
        return wh_wasi_errno(errno);
    return wh_wasi_put64(cx, WH_A32(2), ts_ns(&ts));
}

static int random_get(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t buf = WH_A32(0), len = WH_A32(1);
    if (!wh_wasi_ok(cx, buf, len))
        return WH_E_FAULT;
    for (uint32_t done = 0; done < len;) {
        ssize_t n = getrandom(cx->mem + buf + done, len - done, 0);
        if (n < 0 && errno != EINTR)
            return wh_wasi_errno(errno);
        if (n > 0)
            done += (uint32_t)n;
    }
    return 0;
}

/* Like wasmtime, exit statuses of 126 and up (which shells reserve for
 * "cannot execute" and signals) are refused with a trap. */
static int proc_exit(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t code = WH_A32(0);
    if (code >= 126) {
        cx->status = wharf_caller_trap(cx->caller,
            "exit with invalid exit status %u outside of [0..126)", code);
        return 0;
    }
    cx->w->exit_code = (int)code;
    cx->status = wharf_caller_exit(cx->caller, (int)code);
    return 0;
}

/* Signals are not delivered to guests (wasmtime answers the same). */
static int proc_raise(wh_wasi_call *cx, const wharf_slot *a)
{
    return WH_E_NOTSUP;
}

static int sched_yield_(wh_wasi_call *cx, const wharf_slot *a)
{
    sched_yield();
    return 0;
}

static const wh_wasi_func core_funcs[] = {
    { "args_get", "ii", "i", args_get },
    { "args_sizes_get", "ii", "i", args_sizes_get },
    { "environ_get", "ii", "i", environ_get },
    { "environ_sizes_get", "ii", "i", environ_sizes_get },
    { "clock_res_get", "ii", "i", clock_res_get },
    { "clock_time_get", "iIi", "i", clock_time_get },
    { "random_get", "ii", "i", random_get },
    { "proc_exit", "i", "", proc_exit },
    { "proc_raise", "i", "i", proc_raise },
    { "sched_yield", "", "i", sched_yield_ },
};

/* ---- Linker glue ---------------------------------------------------------- */

static wharf_status dispatch(wharf_caller *c, void *user, wharf_slot *slots)
{
    const wh_wasi_binding *b = user;
    wh_wasi *w = b->w ? b->w : b->get(wharf_caller_user(c));
    if (!w)
        return wharf_caller_trap(c, "%s: the calling instance has no WASI state",
                                 b->f->name);
    wh_wasi_call cx = { .w = w, .caller = c, .status = WHARF_OK };
    cx.mem = wharf_caller_memory(c, &cx.mem_len);
    int r = b->f->fn(&cx, slots);
    if (cx.status != WHARF_OK)
        return cx.status;
    if (b->f->results[0])
        slots[0] = (uint32_t)r;
    return WHARF_OK;
}

/* Converts a signature string ('i', 'I') to value kinds in `out`. */
static uint32_t kinds(const char *sig, wharf_valkind *out)
{
    uint32_t n = 0;
    for (; sig[n]; n++)
        out[n] = sig[n] == 'I' ? WHARF_I64 : WHARF_I32;
    return n;
}

/* Defines the rows of `t`, each with the next binding of `bind`, a copy
 * of `proto` for that row. */
static wharf_status define_table(wharf_linker *l, wh_wasi_binding *bind,
                                 const wh_wasi_binding *proto,
                                 const wh_wasi_func *t, size_t n, size_t *next)
{
    for (size_t i = 0; i < n; i++) {
        wharf_valkind p[16], r[1];
        wh_wasi_binding *b = &bind[(*next)++];
        *b = *proto;
        b->f = &t[i];
        uint32_t np = kinds(t[i].params, p), nr = kinds(t[i].results, r);
        wharf_status st = wharf_linker_define_func(
            l, "wasi_snapshot_preview1", t[i].name, p, np, r, nr, dispatch, b);
        if (st != WHARF_OK)
            return st;
    }
    return WHARF_OK;
}

/* Every function, with bindings made from `proto` into `bind` (room for
 * all of them, or NULL to get only the count, returned in *total). */
static wharf_status define_all(wharf_linker *l, wh_wasi_binding *bind,
                               const wh_wasi_binding *proto, size_t *total)
{
    struct { const wh_wasi_func *t; size_t n; } tables[] = {
        { core_funcs, WH_ARRAY_LEN(core_funcs) },
        { wh_wasi_fd_funcs, wh_wasi_fd_nfuncs },
        { wh_wasi_path_funcs, wh_wasi_path_nfuncs },
        { wh_wasi_poll_funcs, wh_wasi_poll_nfuncs },
        { wh_wasi_sock_funcs, wh_wasi_sock_nfuncs },
    };
    size_t next = 0;
    *total = 0;
    for (size_t i = 0; i < WH_ARRAY_LEN(tables); i++)
        *total += tables[i].n;
    for (size_t i = 0; bind && i < WH_ARRAY_LEN(tables); i++) {
        wharf_status st = define_table(l, bind, proto, tables[i].t, tables[i].n, &next);
        if (st != WHARF_OK)
            return st;
    }
    return WHARF_OK;
}

wharf_status wh_wasi_define(wh_wasi *w, wharf_linker *l)
{
    size_t total;
    define_all(l, NULL, NULL, &total);
    if (!w->bind && !(w->bind = calloc(total, sizeof *w->bind)))
        return WHARF_ERR_NOMEM;
    return define_all(l, w->bind, &(wh_wasi_binding){ .w = w }, &total);
}

wharf_status wh_wasi_define_shared(wharf_linker *l, wh_wasi *(*get)(void *inst_user))
{
    size_t total;
    define_all(l, NULL, NULL, &total);
    wh_wasi_binding *bind = wharf_linker_alloc(l, total * sizeof *bind);
    if (!bind || !get)
        return bind ? WHARF_ERR_ARG : WHARF_ERR_NOMEM;
    return define_all(l, bind, &(wh_wasi_binding){ .get = get }, &total);
}

/* ---- Creation ------------------------------------------------------------- */

static void set_error(wharf_error *err, wharf_status st, const char *fmt, ...)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->status = st;
    err->offset = WHARF_NO_OFFSET;
    err->func_index = WHARF_NO_FUNC;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* Copies `n` C strings; *bytes receives their total size with NULs. */
static char **copy_strings(const char *const *s, int n, size_t *bytes)
{
    char **out = calloc((size_t)n + 1, sizeof *out);
    *bytes = 0;
    for (int i = 0; out && i < n; i++) {
        if (!(out[i] = strdup(s[i]))) {
            for (int j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
        *bytes += strlen(s[i]) + 1;
    }
    return out;
}

/* Maps host file status flags to fdflags. */
static uint16_t host_fdflags(int host)
{
    int fl = fcntl(host, F_GETFL);
    uint16_t f = 0;
    if (fl < 0)
        return 0;
    if (fl & O_APPEND) f |= WH_FDF_APPEND;
    if (fl & O_NONBLOCK) f |= WH_FDF_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC) f |= WH_FDF_SYNC;
    else if (fl & O_DSYNC) f |= WH_FDF_DSYNC;
    return f;
}

/* Guest fd `slot` gets a private duplicate of host fd `fd` (so closing it
 * never closes the embedder's stdio), or `fd` itself when borrowed; a
 * negative `fd` leaves it closed. */
static int add_stdio(wh_wasi *w, uint32_t slot, int fd, bool borrow)
{
    if (fd < 0)
        return 0;
    int host = borrow ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (host < 0)
        return -1;
    wh_wasi_fd *e = &w->fds[slot];
    e->host = host;
    e->borrowed = borrow;
    uint64_t mask = wh_wasi_fd_classify(e);
    e->base = mask;
    e->inheriting = 0;
    e->flags = host_fdflags(host);
    return 0;
}

static int add_preopen(wh_wasi *w, uint32_t slot, const wh_wasi_preopen *p)
{
    wh_wasi_fd *e = &w->fds[slot];
    const char *name = p->guest_path ? p->guest_path : p->host_path;
    e->host = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (e->host < 0)
        return -1;
    e->type = WH_FT_DIR;
    e->base = WH_RIGHTS_DIR;
    e->inheriting = WH_RIGHTS_DIR | WH_RIGHTS_FILE;
    e->preopen = strdup(name);
    return e->preopen ? 0 : -1;
}

static wharf_status open_fds(wh_wasi *w, const wh_wasi_config *cfg,
                             wharf_error *err)
{
    int std[3] = { cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd };
    uint32_t n = 3 + (uint32_t)(cfg->npreopens > 0 ? cfg->npreopens : 0);
    if (!(w->fds = calloc(n, sizeof *w->fds)))
        return WHARF_ERR_NOMEM;
    w->nfds = n;
    for (uint32_t i = 0; i < w->nfds; i++)
        w->fds[i].host = -1;
    for (uint32_t i = 0; i < 3; i++) {
        if (add_stdio(w, i, std[i], cfg->borrow_stdio) != 0) {
            set_error(err, WHARF_ERR_ARG, "cannot use fd %d as guest fd %u: %s",
                      std[i], i, strerror(errno));
            return WHARF_ERR_ARG;
        }
    }
    for (int i = 0; i < cfg->npreopens; i++) {
        const wh_wasi_preopen *p = &cfg->preopens[i];
        if (add_preopen(w, 3 + (uint32_t)i, p) != 0) {
            set_error(err, WHARF_ERR_ARG, "cannot open directory '%s': %s",
                      p->host_path, strerror(errno));
            return WHARF_ERR_ARG;
        }
    }
    return WHARF_OK;
}

wharf_status wh_wasi_new(const wh_wasi_config *cfg, WHARF_OWN wh_wasi **out,
                         wharf_error *err)
{
    *out = NULL;
    wh_wasi *w = calloc(1, sizeof *w);
    if (!w)
        return WHARF_ERR_NOMEM;
    w->argc = cfg->argc > 0 ? cfg->argc : 0;
    w->nenv = cfg->nenv > 0 ? cfg->nenv : 0;
    w->argv = copy_strings(cfg->argv, w->argc, &w->argv_bytes);
    w->env = copy_strings(cfg->env, w->nenv, &w->env_bytes);
    wharf_status st = WHARF_ERR_NOMEM;
    if (w->argv && w->env)
        st = open_fds(w, cfg, err);
    if (st != WHARF_OK) {
        if (st == WHARF_ERR_NOMEM)
            set_error(err, st, "out of memory");
        wh_wasi_free(w);
        return st;
    }
    *out = w;
    return WHARF_OK;
}

static void free_strings(char **s, int n)
{
    for (int i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

void wh_wasi_free(WHARF_OWN wh_wasi *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->nfds; i++)
        wh_wasi_fd_release(&w->fds[i]);
    free(w->fds);
    free_strings(w->argv, w->argc);
    free_strings(w->env, w->nenv);
    free(w->bind);
    free(w);
}

int wh_wasi_exit_code(const wh_wasi *w)
{
    return w->exit_code;
}
