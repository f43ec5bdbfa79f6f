/* wasi_fd.c: the guest fd table and every fd_* function of WASI preview1.
 *
 * A guest fd indexes wh_wasi.fds; each slot owns one close-on-exec host
 * fd and the rights the guest holds on it. Rights are checked before any
 * host call (NOTCAPABLE when missing), out-pointers are checked before any
 * side effect, so a FAULT never loses data. Streams (pipes, ttys, sockets)
 * answer SPIPE to seeks, as they do natively.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasiInt.h"

/* More guest fds than this is surely a leak; the host limit usually
 * stops a guest well before. */
#define MAX_FDS (1u << 20)

/* ---- The table ------------------------------------------------------------ */

wh_wasi_fd *wh_wasi_fd_get(wh_wasi *w, uint32_t fd)
{
    if (fd >= w->nfds || w->fds[fd].host < 0)
        return NULL;
    return &w->fds[fd];
}

int wh_wasi_fd_check(wh_wasi *w, uint32_t fd, uint64_t need, wh_wasi_fd **out)
{
    wh_wasi_fd *e = wh_wasi_fd_get(w, fd);
    if (!e)
        return WH_E_BADF;
    if ((e->base & need) != need)
        return WH_E_NOTCAPABLE;
    *out = e;
    return 0;
}

static void free_snapshot(wh_wasi_fd *e)
{
    for (uint32_t i = 0; i < e->ndir; i++)
        free(e->dir[i].name);
    free(e->dir);
    e->dir = NULL;
    e->ndir = 0;
    e->dir_valid = false;
}

void wh_wasi_fd_release(wh_wasi_fd *e)
{
    if (e->host >= 0 && !e->borrowed)
        close(e->host);
    free(e->preopen);
    free_snapshot(e);
    memset(e, 0, sizeof *e);
    e->host = -1;
}

static uint8_t socket_type(int fd)
{
    int t = 0;
    socklen_t len = sizeof t;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) != 0)
        return WH_FT_UNKNOWN;
    return t == SOCK_DGRAM ? WH_FT_SOCK_DGRAM : WH_FT_SOCK_STREAM;
}

uint64_t wh_wasi_fd_classify(wh_wasi_fd *e)
{
    struct stat st;
    e->type = WH_FT_UNKNOWN;
    e->stream = true;
    if (fstat(e->host, &st) != 0)
        return WH_RIGHTS_STREAM;
    if (S_ISDIR(st.st_mode)) {
        e->type = WH_FT_DIR;
        e->stream = false;
        return WH_RIGHTS_DIR;
    }
    if (S_ISSOCK(st.st_mode)) {
        e->type = socket_type(e->host);
        return WH_RIGHTS_SOCK;
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
        (S_ISCHR(st.st_mode) && !isatty(e->host))) {
        e->type = S_ISREG(st.st_mode) ? WH_FT_REG
                : S_ISBLK(st.st_mode) ? WH_FT_BLOCK : WH_FT_CHAR;
        e->stream = false;
        return WH_RIGHTS_FILE;
    }
    /* A tty: wasi-libc's isatty() wants a character device without the
     * seek and tell rights. FIFOs have no preview1 type: unknown. */
    if (S_ISCHR(st.st_mode))
        e->type = WH_FT_CHAR;
    return WH_RIGHTS_STREAM;
}

static int grow(wh_wasi *w)
{
    uint32_t n = w->nfds ? w->nfds * 2 : 8;
    if (w->nfds >= MAX_FDS)
        return WH_E_MFILE;
    wh_wasi_fd *f = realloc(w->fds, n * sizeof *f);
    if (!f)
        return WH_E_NOMEM;
    for (uint32_t i = w->nfds; i < n; i++) {
        memset(&f[i], 0, sizeof f[i]);
        f[i].host = -1;
    }
    w->fds = f;
    w->nfds = n;
    return 0;
}

int wh_wasi_fd_add(wh_wasi *w, int host, uint64_t base, uint64_t inheriting,
                   uint16_t flags, uint32_t *out)
{
    uint32_t fd = 0;
    while (fd < w->nfds && w->fds[fd].host >= 0)
        fd++;
    if (fd == w->nfds) {
        int r = grow(w);
        if (r) {
            close(host);
            return r;
        }
    }
    wh_wasi_fd *e = &w->fds[fd];
    e->host = host;
    e->base = base & wh_wasi_fd_classify(e);
    e->inheriting = inheriting;
    e->flags = flags;
    *out = fd;
    return 0;
}

/* ---- Shared conversions --------------------------------------------------- */

static uint8_t mode_type(mode_t m)
{
    if (S_ISREG(m)) return WH_FT_REG;
    if (S_ISDIR(m)) return WH_FT_DIR;
    if (S_ISLNK(m)) return WH_FT_LINK;
    if (S_ISCHR(m)) return WH_FT_CHAR;
    if (S_ISBLK(m)) return WH_FT_BLOCK;
    if (S_ISSOCK(m)) return WH_FT_SOCK_STREAM;
    return WH_FT_UNKNOWN;
}

static uint64_t stat_ns(struct timespec ts)
{
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int wh_wasi_put_filestat(wh_wasi_call *cx, uint32_t p, const struct stat *st)
{
    if (!wh_wasi_ok(cx, p, 64))
        return WH_E_FAULT;
    memset(cx->mem + p, 0, 64);
    wh_wasi_st64(cx, p + 0, (uint64_t)st->st_dev);
    wh_wasi_st64(cx, p + 8, (uint64_t)st->st_ino);
    wh_wasi_st8(cx, p + 16, mode_type(st->st_mode));
    wh_wasi_st64(cx, p + 24, (uint64_t)st->st_nlink);
    wh_wasi_st64(cx, p + 32, (uint64_t)st->st_size);
    wh_wasi_st64(cx, p + 40, stat_ns(st->st_atim));
    wh_wasi_st64(cx, p + 48, stat_ns(st->st_mtim));
    wh_wasi_st64(cx, p + 56, stat_ns(st->st_ctim));
    return 0;
}

static int one_time(uint64_t t, bool set, bool now, struct timespec *ts)
{
    if (set && now)
        return WH_E_INVAL;
    if (set) {
        ts->tv_sec = (time_t)(t / 1000000000u);
        ts->tv_nsec = (long)(t % 1000000000u);
    } else {
        ts->tv_sec = 0;
        ts->tv_nsec = now ? UTIME_NOW : UTIME_OMIT;
    }
    return 0;
}

int wh_wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst,
                  struct timespec ts[2])
{
    if (fst & ~(uint32_t)WH_FST_ALL)
        return WH_E_INVAL;
    int r = one_time(atim, fst & WH_FST_ATIM, fst & WH_FST_ATIM_NOW, &ts[0]);
    return r ? r : one_time(mtim, fst & WH_FST_MTIM, fst & WH_FST_MTIM_NOW, &ts[1]);
}

int wh_wasi_iovecs(wh_wasi_call *cx, uint32_t iovs, uint32_t n,
                   struct iovec *out, int *count)
{
    if (!wh_wasi_ok(cx, iovs, (uint64_t)n * 8))
        return WH_E_FAULT;
    uint64_t total = 0;
    int k = 0;
    for (uint32_t i = 0; i < n && k < WH_WASI_IOV_MAX; i++) {
        uint32_t buf = wh_wasi_ld32(cx, iovs + 8 * i);
        uint32_t len = wh_wasi_ld32(cx, iovs + 8 * i + 4);
        if (!wh_wasi_ok(cx, buf, len))
            return WH_E_FAULT;
        if (total + len > UINT32_MAX)
            len = (uint32_t)(UINT32_MAX - total);
        total += len;
        out[k].iov_base = cx->mem + buf;
        out[k++].iov_len = len;
    }
    *count = k;
    return 0;
}

/* ---- Reading and writing ---------------------------------------------------- */

enum io_kind { IO_READ, IO_WRITE, IO_PREAD, IO_PWRITE };

static ssize_t host_io(int fd, enum io_kind k, struct iovec *v, int n, off_t off)
{
    ssize_t r;
    do {
        switch (k) {
        case IO_READ: r = readv(fd, v, n); break;
        case IO_WRITE: r = writev(fd, v, n); break;
        case IO_PREAD: r = preadv(fd, v, n, off); break;
        default: r = pwritev(fd, v, n, off); break;
        }
    } while (r < 0 && errno == EINTR);
    return r;
}

/* The shared body of fd_read, fd_write, fd_pread and fd_pwrite. */
static int do_io(wh_wasi_call *cx, uint32_t fd, enum io_kind k, uint32_t iovs,
                 uint32_t n, uint64_t off, uint32_t result)
{
    bool positioned = k == IO_PREAD || k == IO_PWRITE;
    uint64_t need = (k == IO_READ || k == IO_PREAD) ? WH_R_FD_READ : WH_R_FD_WRITE;
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, fd);
    if (!e)
        return WH_E_BADF;
    if (positioned && e->stream)
        return WH_E_SPIPE;
    int r = wh_wasi_fd_check(cx->w, fd, need | (positioned ? WH_R_FD_SEEK : 0), &e);
    if (r)
        return r;
    if (positioned && off > INT64_MAX)
        return WH_E_INVAL;
    struct iovec v[WH_WASI_IOV_MAX];
    int cnt;
    if ((r = wh_wasi_iovecs(cx, iovs, n, v, &cnt)) || !wh_wasi_ok(cx, result, 4))
        return r ? r : WH_E_FAULT;
    ssize_t got = host_io(e->host, k, v, cnt, (off_t)off);
    if (got < 0)
        return wh_wasi_errno(errno);
    wh_wasi_st32(cx, result, (uint32_t)got);
    return 0;
}

static int fd_read(wh_wasi_call *cx, const wharf_slot *a)
{
    return do_io(cx, WH_A32(0), IO_READ, WH_A32(1), WH_A32(2), 0, WH_A32(3));
}

static int fd_write(wh_wasi_call *cx, const wharf_slot *a)
{
    return do_io(cx, WH_A32(0), IO_WRITE, WH_A32(1), WH_A32(2), 0, WH_A32(3));
}

static int fd_pread(wh_wasi_call *cx, const wharf_slot *a)
{
    return do_io(cx, WH_A32(0), IO_PREAD, WH_A32(1), WH_A32(2), WH_A64(3),
                 WH_A32(4));
}

static int fd_pwrite(wh_wasi_call *cx, const wharf_slot *a)
{
    return do_io(cx, WH_A32(0), IO_PWRITE, WH_A32(1), WH_A32(2), WH_A64(3),
                 WH_A32(4));
}

/* ---- Offsets ------------------------------------------------------------------ */

/* seek/tell: streams answer SPIPE before rights are looked at, as natively. */
static int seekable(wh_wasi_call *cx, uint32_t fd, uint64_t need, wh_wasi_fd **e)
{
    wh_wasi_fd *f = wh_wasi_fd_get(cx->w, fd);
    if (f && f->stream)
        return WH_E_SPIPE;
    return wh_wasi_fd_check(cx->w, fd, need, e);
}

static int fd_seek(wh_wasi_call *cx, const wharf_slot *a)
{
    int64_t off = (int64_t)WH_A64(1);
    uint32_t whence = WH_A32(2), out = WH_A32(3);
    static const int host_whence[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    /* Asking for the position only is a tell (as wasi-libc's ftell does). */
    uint64_t need = (off == 0 && whence == 1) ? WH_R_FD_TELL : WH_R_FD_SEEK;
    wh_wasi_fd *e;
    int r = seekable(cx, WH_A32(0), need, &e);
    if (r)
        return r;
    if (whence > 2)
        return WH_E_INVAL;
    if (!wh_wasi_ok(cx, out, 8))
        return WH_E_FAULT;
    off_t pos = lseek(e->host, (off_t)off, host_whence[whence]);
    if (pos < 0)
        return wh_wasi_errno(errno);
    wh_wasi_st64(cx, out, (uint64_t)pos);
    return 0;
}

static int fd_tell(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    int r = seekable(cx, WH_A32(0), WH_R_FD_TELL, &e);
    if (r)
        return r;
    if (!wh_wasi_ok(cx, WH_A32(1), 8))
        return WH_E_FAULT;
    off_t pos = lseek(e->host, 0, SEEK_CUR);
    if (pos < 0)
        return wh_wasi_errno(errno);
    wh_wasi_st64(cx, WH_A32(1), (uint64_t)pos);
    return 0;
}

/* ---- Attributes ----------------------------------------------------------------- */

static int fd_fdstat_get(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, WH_A32(0));
    uint32_t p = WH_A32(1);
    if (!e)
        return WH_E_BADF;
    if (!wh_wasi_ok(cx, p, 24))
        return WH_E_FAULT;
    memset(cx->mem + p, 0, 24);
    wh_wasi_st8(cx, p, e->type);
    wh_wasi_st16(cx, p + 2, e->flags);
    wh_wasi_st64(cx, p + 8, e->base);
    wh_wasi_st64(cx, p + 16, e->inheriting);
    return 0;
}

/* Only APPEND and NONBLOCK can change after open (as in wasmtime); the
 * sync flags may be passed back unchanged. */
static int fd_fdstat_set_flags(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t flags = WH_A32(1);
    const uint32_t sync = WH_FDF_DSYNC | WH_FDF_RSYNC | WH_FDF_SYNC;
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_FDSTAT_SET_FLAGS, &e);
    if (r)
        return r;
    if ((flags & ~(uint32_t)WH_FDF_ALL) || (flags & sync) != (e->flags & sync))
        return WH_E_INVAL;
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0)
        return wh_wasi_errno(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    fl |= (flags & WH_FDF_APPEND ? O_APPEND : 0) |
          (flags & WH_FDF_NONBLOCK ? O_NONBLOCK : 0);
    if (fcntl(e->host, F_SETFL, fl) != 0)
        return wh_wasi_errno(errno);
    e->flags = (uint16_t)flags;
    return 0;
}

/* Rights can only be dropped, never regained. */
static int fd_fdstat_set_rights(wh_wasi_call *cx, const wharf_slot *a)
{
    uint64_t base = WH_A64(1), inh = WH_A64(2);
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, WH_A32(0));
    if (!e)
        return WH_E_BADF;
    if ((base & ~e->base) || (inh & ~e->inheriting))
        return WH_E_NOTCAPABLE;
    e->base = base;
    e->inheriting = inh;
    return 0;
}

static int fd_filestat_get(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    struct stat st;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_FILESTAT_GET, &e);
    if (r)
        return r;
    if (fstat(e->host, &st) != 0)
        return wh_wasi_errno(errno);
    return wh_wasi_put_filestat(cx, WH_A32(1), &st);
}

static int fd_filestat_set_size(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_FILESTAT_SET_SIZE, &e);
    if (r)
        return r;
    if (WH_A64(1) > INT64_MAX)
        return WH_E_INVAL;
    return ftruncate(e->host, (off_t)WH_A64(1)) ? wh_wasi_errno(errno) : 0;
}

static int fd_filestat_set_times(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    struct timespec ts[2];
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_FILESTAT_SET_TIMES, &e);
    if (r || (r = wh_wasi_times(WH_A64(1), WH_A64(2), WH_A32(3), ts)))
        return r;
    return futimens(e->host, ts) ? wh_wasi_errno(errno) : 0;
}

/* ---- Space, sync, advice ------------------------------------------------------------ */

static int fd_advise(wh_wasi_call *cx, const wharf_slot *a)
{
    static const int advice[] = {
        POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
        POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE,
    };
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_ADVISE, &e);
    if (r)
        return r;
    if (WH_A32(3) >= WH_ARRAY_LEN(advice) || WH_A64(1) > INT64_MAX ||
        WH_A64(2) > INT64_MAX)
        return WH_E_INVAL;
    if (e->type == WH_FT_DIR)
        return WH_E_BADF;
    return wh_wasi_errno(posix_fadvise(e->host, (off_t)WH_A64(1),
                                       (off_t)WH_A64(2), advice[WH_A32(3)]));
}

static int fd_allocate(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_ALLOCATE, &e);
    if (r)
        return r;
    if (WH_A64(1) > INT64_MAX || WH_A64(2) > INT64_MAX - WH_A64(1))
        return WH_E_INVAL;
    return wh_wasi_errno(posix_fallocate(e->host, (off_t)WH_A64(1),
                                         (off_t)WH_A64(2)));
}

static int fd_sync(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_SYNC, &e);
    return r ? r : fsync(e->host) ? wh_wasi_errno(errno) : 0;
}

static int fd_datasync(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_DATASYNC, &e);
    return r ? r : fdatasync(e->host) ? wh_wasi_errno(errno) : 0;
}

/* ---- The table itself ------------------------------------------------------------------ */

static int fd_close(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, WH_A32(0));
    if (!e)
        return WH_E_BADF;
    wh_wasi_fd_release(e);
    return 0;
}

/* Both fds must be open (wasmtime and the spec tests agree); `to` is
 * closed and takes `from`'s place. */
static int fd_renumber(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t from = WH_A32(0), to = WH_A32(1);
    wh_wasi_fd *f = wh_wasi_fd_get(cx->w, from), *t = wh_wasi_fd_get(cx->w, to);
    if (!f || !t)
        return WH_E_BADF;
    if (from == to)
        return 0;
    wh_wasi_fd_release(t);
    *t = *f;
    memset(f, 0, sizeof *f);
    f->host = -1;
    return 0;
}

static int fd_prestat_get(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, WH_A32(0));
    uint32_t p = WH_A32(1);
    if (!e || !e->preopen)
        return WH_E_BADF;
    if (!wh_wasi_ok(cx, p, 8))
        return WH_E_FAULT;
    memset(cx->mem + p, 0, 8);
    wh_wasi_st32(cx, p + 4, (uint32_t)strlen(e->preopen));
    return 0;
}

static int fd_prestat_dir_name(wh_wasi_call *cx, const wharf_slot *a)
{
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, WH_A32(0));
    uint32_t p = WH_A32(1), len = WH_A32(2);
    if (!e)
        return WH_E_BADF;
    if (!e->preopen)
        return WH_E_NOTDIR;
    size_t n = strlen(e->preopen);
    if (len < n)
        return WH_E_NAMETOOLONG;
    if (!wh_wasi_ok(cx, p, n))
        return WH_E_FAULT;
    memcpy(cx->mem + p, e->preopen, n);
    return 0;
}

/* ---- fd_readdir ------------------------------------------------------------------------- */

static uint8_t dirent_type(int dirfd, const struct dirent *d)
{
    struct stat st;
    switch (d->d_type) {
    case DT_REG: return WH_FT_REG;
    case DT_DIR: return WH_FT_DIR;
    case DT_LNK: return WH_FT_LINK;
    case DT_CHR: return WH_FT_CHAR;
    case DT_BLK: return WH_FT_BLOCK;
    case DT_SOCK: return WH_FT_SOCK_STREAM;
    case DT_UNKNOWN:
        if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return mode_type(st.st_mode);
        return WH_FT_UNKNOWN;
    default: return WH_FT_UNKNOWN;
    }
}

static int snapshot_push(wh_wasi_fd *e, uint32_t *cap, uint64_t ino,
                         uint8_t type, const char *name)
{
    if (e->ndir == *cap) {
        uint32_t n = *cap ? *cap * 2 : 64;
        wh_wasi_dirent *d = realloc(e->dir, n * sizeof *d);
        if (!d)
            return WH_E_NOMEM;
        e->dir = d;
        *cap = n;
    }
    wh_wasi_dirent *d = &e->dir[e->ndir];
    if (!(d->name = strdup(name)))
        return WH_E_NOMEM;
    d->ino = ino;
    d->type = type;
    d->namelen = (uint32_t)strlen(name);
    e->ndir++;
    return 0;
}

/* Reads the whole directory: "." and ".." first (cookies 1 and 2, both
 * with the directory's own inode so nothing outside leaks), then the host
 * entries in host order. */
static int snapshot(wh_wasi_fd *e)
{
    struct stat st;
    uint32_t cap = 0;
    free_snapshot(e);
    int fd = openat(e->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return wh_wasi_errno(err);
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return wh_wasi_errno(errno);
    }
    int r = snapshot_push(e, &cap, st.st_ino, WH_FT_DIR, ".");
    if (!r)
        r = snapshot_push(e, &cap, st.st_ino, WH_FT_DIR, "..");
    for (struct dirent *de; !r && (de = readdir(d));) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            r = snapshot_push(e, &cap, de->d_ino, dirent_type(fd, de), de->d_name);
    }
    closedir(d);
    e->dir_valid = r == 0;
    return r;
}

/* Copies as much of `src` as fits; returns the bytes left in the buffer. */
static uint32_t put_trunc(wh_wasi_call *cx, uint32_t *p, uint32_t cap,
                          const void *src, uint32_t n)
{
    uint32_t k = n < cap ? n : cap;
    memcpy(cx->mem + *p, src, k);
    *p += k;
    return cap - k;
}

/* Fills the buffer with dirents from `cookie` on; the last one may be cut
 * short, and bufused < buf_len tells the guest it reached the end. */
static int fd_readdir(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t buf = WH_A32(1), len = WH_A32(2), used = WH_A32(4);
    uint64_t cookie = WH_A64(3);
    wh_wasi_fd *e;
    int r = wh_wasi_fd_check(cx->w, WH_A32(0), WH_R_FD_READDIR, &e);
    if (r)
        return r;
    if (e->type != WH_FT_DIR)
        return WH_E_NOTDIR;
    if (!wh_wasi_ok(cx, buf, len) || !wh_wasi_ok(cx, used, 4))
        return WH_E_FAULT;
    if ((cookie == 0 || !e->dir_valid) && (r = snapshot(e)))
        return r;
    uint32_t cap = len, p = buf;
    for (uint64_t i = cookie; i < e->ndir && cap > 0; i++) {
        const wh_wasi_dirent *d = &e->dir[i];
        uint8_t hdr[24] = { 0 };
        uint64_t next = i + 1;
        memcpy(hdr, &next, 8);
        memcpy(hdr + 8, &d->ino, 8);
        memcpy(hdr + 16, &d->namelen, 4);
        hdr[20] = d->type;
        cap = put_trunc(cx, &p, cap, hdr, sizeof hdr);
        cap = put_trunc(cx, &p, cap, d->name, d->namelen);
    }
    wh_wasi_st32(cx, used, len - cap);
    return 0;
}

const wh_wasi_func wh_wasi_fd_funcs[] = {
    { "fd_advise", "iIIi", "i", fd_advise },
    { "fd_allocate", "iII", "i", fd_allocate },
    { "fd_close", "i", "i", fd_close },
    { "fd_datasync", "i", "i", fd_datasync },
    { "fd_fdstat_get", "ii", "i", fd_fdstat_get },
    { "fd_fdstat_set_flags", "ii", "i", fd_fdstat_set_flags },
    { "fd_fdstat_set_rights", "iII", "i", fd_fdstat_set_rights },
    { "fd_filestat_get", "ii", "i", fd_filestat_get },
    { "fd_filestat_set_size", "iI", "i", fd_filestat_set_size },
    { "fd_filestat_set_times", "iIIi", "i", fd_filestat_set_times },
    { "fd_pread", "iiiIi", "i", fd_pread },
    { "fd_prestat_get", "ii", "i", fd_prestat_get },
    { "fd_prestat_dir_name", "iii", "i", fd_prestat_dir_name },
    { "fd_pwrite", "iiiIi", "i", fd_pwrite },
    { "fd_read", "iiii", "i", fd_read },
    { "fd_readdir", "iiiIi", "i", fd_readdir },
    { "fd_renumber", "ii", "i", fd_renumber },
    { "fd_seek", "iIii", "i", fd_seek },
    { "fd_sync", "i", "i", fd_sync },
    { "fd_tell", "ii", "i", fd_tell },
    { "fd_write", "iiii", "i", fd_write },
};
const size_t wh_wasi_fd_nfuncs = WH_ARRAY_LEN(wh_wasi_fd_funcs);
