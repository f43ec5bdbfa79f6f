/* wasi_path.c: sandboxed path resolution and every path_* function.
 *
 * The sandbox: a guest path is always relative to a directory fd it holds
 * (a preopen or a directory opened from one), and that directory is the
 * root the path may never leave. resolve() walks the path one component
 * at a time with openat(O_PATH | O_NOFOLLOW) from that root, keeping the
 * chain of directories it went through:
 *   - absolute paths, and ".." at the root, are escapes (PERM, as wasmtime);
 *   - symlinks are never followed by the kernel: resolve() reads them and
 *     splices their target into the rest of the path, so they are walked
 *     by the same rules (absolute targets are escapes; more than 40 links
 *     is LOOP);
 *   - the final component is handed to the operation as (dirfd, name) and
 *     the *at() call never follows it (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, or
 *     calls such as unlinkat that never follow the last name).
 * Host races cannot widen this: every step is relative to an fd already
 * inside, and no step lets the kernel follow a link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasiInt.h"

#define MAX_LINKS 40          /* Linux's MAXSYMLINKS */
#define MAX_WORK (1u << 16)   /* longest path after symlink expansion */

enum {
    RES_FOLLOW = 1,   /* follow a symlink in the final component */
    RES_PARENT = 2,   /* the operation acts on the final name itself
                         (mkdir, unlink, rename...): a trailing slash is
                         passed to the kernel instead of forcing a follow */
};

/* A resolved path: the directory that holds the final component. */
typedef struct resolved {
    int dirfd;
    bool own;                 /* dirfd was opened here and must be closed */
    bool slash;               /* the path ended in '/': must be a directory */
    char name[NAME_MAX + 2];  /* final component, "." for dirfd itself */
} resolved;

/* The walk in progress: the chain of directories from the root down, and
 * the path still to walk (mutable, NUL-terminated). */
typedef struct walk {
    int *fds;
    uint32_t depth, cap;      /* fds[0] is the root, borrowed */
    char *buf;
    size_t pos;
    int links;
} walk;

/* ---- The walk ----------------------------------------------------------------- */

static void walk_free(walk *k, uint32_t keep)
{
    for (uint32_t i = 1; i <= k->depth; i++)
        if (i != keep)
            close(k->fds[i]);
    free(k->fds);
    free(k->buf);
}

static int walk_push(walk *k, int fd)
{
    if (k->depth + 1 == k->cap) {
        uint32_t n = k->cap * 2;
        int *f = realloc(k->fds, n * sizeof *f);
        if (!f) {
            close(fd);
            return WH_E_NOMEM;
        }
        k->fds = f;
        k->cap = n;
    }
    k->fds[++k->depth] = fd;
    return 0;
}

/* Leaves the current directory for its parent: never above the root. */
static int walk_up(walk *k)
{
    if (k->depth == 0)
        return WH_E_PERM;
    close(k->fds[k->depth--]);
    return 0;
}

/* Replaces the walked part of the path with a symlink's target, so the
 * walk continues inside the target and then with the rest. */
static int splice_link(walk *k, const char *target, size_t tlen)
{
    const char *rest = k->buf + k->pos;
    size_t rlen = strlen(rest);
    if (++k->links > MAX_LINKS)
        return WH_E_LOOP;
    if (tlen == 0)
        return WH_E_NOENT;
    if (target[0] == '/')
        return WH_E_PERM;
    if (tlen + rlen + 1 > MAX_WORK)
        return WH_E_NAMETOOLONG;
    char *b = malloc(tlen + rlen + 1);
    if (!b)
        return WH_E_NOMEM;
    memcpy(b, target, tlen);
    memcpy(b + tlen, rest, rlen + 1);
    free(k->buf);
    k->buf = b;
    k->pos = 0;
    return 0;
}

/* If `name` in the current directory is a symlink, splices it in and sets
 * *spliced. Otherwise leaves the walk alone. */
static int try_link(walk *k, const char *name, bool *spliced)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(k->fds[k->depth], name, target, sizeof target);
    *spliced = false;
    if (n < 0)
        return 0;
    if ((size_t)n == sizeof target)
        return WH_E_NAMETOOLONG;
    *spliced = true;
    return splice_link(k, target, (size_t)n);
}

/* Steps into directory `name` (not the final component). */
static int walk_into(walk *k, const char *name)
{
    if (!strcmp(name, "."))
        return 0;
    if (!strcmp(name, ".."))
        return walk_up(k);
    int fd = openat(k->fds[k->depth], name,
                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return walk_push(k, fd);
    int err = errno;
    if (err != ENOTDIR && err != ELOOP)
        return wh_wasi_errno(err);
    bool spliced;
    int r = try_link(k, name, &spliced);
    return r ? r : spliced ? 0 : WH_E_NOTDIR;
}

/* Reads the next component into `comp`; *last tells whether only slashes
 * follow it, and *slash whether there were any. */
static int next_comp(walk *k, char comp[NAME_MAX + 1], bool *last, bool *slash)
{
    const char *p = k->buf + k->pos;
    while (*p == '/')
        p++;
    size_t n = strcspn(p, "/");
    if (n > NAME_MAX)
        return WH_E_NAMETOOLONG;
    memcpy(comp, p, n);
    comp[n] = 0;
    p += n;
    k->pos = (size_t)(p - k->buf);
    const char *q = p;
    while (*q == '/')
        q++;
    *last = *q == 0;
    *slash = q != p;
    return 0;
}

/* Handles the final component: "." and ".." name the directory itself;
 * a symlink is spliced in when following. *done is set when `out` holds
 * the result. */
static int walk_last(walk *k, const char *comp, bool follow, bool *done,
                     resolved *out)
{
    int r = 0;
    *done = true;
    if (!strcmp(comp, "..") && (r = walk_up(k)))
        return r;
    if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
        strcpy(out->name, ".");
        return 0;
    }
    if (follow) {
        bool spliced;
        if ((r = try_link(k, comp, &spliced)) || spliced) {
            *done = false;
            return r;
        }
    }
    strcpy(out->name, comp);
    return 0;
}

static int walk_run(walk *k, int flags, resolved *out)
{
    char comp[NAME_MAX + 1];
    for (;;) {
        bool last, slash, done;
        int r = next_comp(k, comp, &last, &slash);
        if (r)
            return r;
        if (!last) {
            if ((r = walk_into(k, comp)))
                return r;
            continue;
        }
        bool follow = (flags & RES_FOLLOW) || (slash && !(flags & RES_PARENT));
        out->slash = slash;
        if ((r = walk_last(k, comp, follow, &done, out)) || done)
            return r;
    }
}

/* Resolves `path` below `root` (see the file comment). On success the
 * caller owns out->dirfd when out->own and must call unresolve(). */
static int resolve(int root, const char *path, size_t len, int flags,
                   resolved *out)
{
    if (len == 0)
        return WH_E_NOENT;
    if (path[0] == '/')
        return WH_E_PERM;
    walk k = { .cap = 8 };
    k.fds = malloc(k.cap * sizeof *k.fds);
    k.buf = malloc(len + 1);
    if (!k.fds || !k.buf) {
        free(k.fds);
        free(k.buf);
        return WH_E_NOMEM;
    }
    k.fds[0] = root;
    memcpy(k.buf, path, len);
    k.buf[len] = 0;
    int r = walk_run(&k, flags, out);
    out->dirfd = k.fds[k.depth];
    out->own = r == 0 && k.depth > 0;
    walk_free(&k, r == 0 ? k.depth : 0);
    return r;
}

static void unresolve(resolved *r)
{
    if (r->own)
        close(r->dirfd);
    r->own = false;
}

/* The final name for calls that act on the name itself: a trailing slash
 * goes back on so the kernel applies its directory rules. */
static const char *entry_name(resolved *r)
{
    if (r->slash && strcmp(r->name, "."))
        strcat(r->name, "/");
    return r->name;
}

/* ---- Guest arguments ------------------------------------------------------ */

/* True when [s, s + n) is well-formed UTF-8. */
static bool utf8_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2
                 : (c >> 3) == 30 ? 3 : 4;
        if (k == 4 || (k > 0 && i + k >= n))
            return false;
        uint32_t cp = k == 0 ? c : c & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Checks a guest string argument: in bounds, no NUL, valid UTF-8. */
static int guest_str(wh_wasi_call *cx, uint32_t p, uint32_t len, const char **out)
{
    if (!wh_wasi_ok(cx, p, len))
        return WH_E_FAULT;
    if (len > PATH_MAX)
        return WH_E_NAMETOOLONG;
    if (memchr(cx->mem + p, 0, len))
        return WH_E_INVAL;
    if (!utf8_ok(cx->mem + p, len))
        return WH_E_ILSEQ;
    *out = (const char *)cx->mem + p;
    return 0;
}

/* The directory `fd` with right `need`: BADF, NOTDIR or NOTCAPABLE. */
static int dir_of(wh_wasi_call *cx, uint32_t fd, uint64_t need, wh_wasi_fd **out)
{
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, fd);
    if (!e)
        return WH_E_BADF;
    if (e->type != WH_FT_DIR)
        return WH_E_NOTDIR;
    return wh_wasi_fd_check(cx->w, fd, need, out);
}

/* dir_of + guest_str + resolve: the preamble of every path function. */
static int at_path(wh_wasi_call *cx, uint32_t fd, uint64_t need, uint32_t p,
                   uint32_t len, int flags, resolved *out)
{
    wh_wasi_fd *e;
    const char *path;
    int r = dir_of(cx, fd, need, &e);
    if (r || (r = guest_str(cx, p, len, &path)))
        return r;
    return resolve(e->host, path, len, flags, out);
}

static int follow_flag(uint32_t lookupflags)
{
    return lookupflags & WH_LOOKUP_FOLLOW ? RES_FOLLOW : 0;
}

/* fstatat on a resolved final; a trailing slash demands a directory. */
static int stat_final(resolved *r, struct stat *st)
{
    if (fstatat(r->dirfd, r->name, st, AT_SYMLINK_NOFOLLOW) != 0)
        return wh_wasi_errno(errno);
    if (r->slash && !S_ISDIR(st->st_mode))
        return WH_E_NOTDIR;
    return 0;
}

/* ---- path_* -------------------------------------------------------------- */

static int path_create_directory(wh_wasi_call *cx, const wharf_slot *a)
{
    resolved r;
    int e = at_path(cx, WH_A32(0), WH_R_PATH_CREATE_DIRECTORY, WH_A32(1),
                    WH_A32(2), RES_PARENT, &r);
    if (e)
        return e;
    if (mkdirat(r.dirfd, entry_name(&r), 0777) != 0)
        e = wh_wasi_errno(errno);
    unresolve(&r);
    return e;
}

static int path_filestat_get(wh_wasi_call *cx, const wharf_slot *a)
{
    resolved r;
    struct stat st;
    if (!wh_wasi_ok(cx, WH_A32(4), 64))
        return WH_E_FAULT;
    int e = at_path(cx, WH_A32(0), WH_R_PATH_FILESTAT_GET, WH_A32(2),
                    WH_A32(3), follow_flag(WH_A32(1)), &r);
    if (e)
        return e;
    if (!(e = stat_final(&r, &st)))
        e = wh_wasi_put_filestat(cx, WH_A32(4), &st);
    unresolve(&r);
    return e;
}

static int path_filestat_set_times(wh_wasi_call *cx, const wharf_slot *a)
{
    resolved r;
    struct stat st;
    struct timespec ts[2];
    int e = wh_wasi_times(WH_A64(4), WH_A64(5), WH_A32(6), ts);
    if (e || (e = at_path(cx, WH_A32(0), WH_R_PATH_FILESTAT_SET_TIMES,
                          WH_A32(2), WH_A32(3), follow_flag(WH_A32(1)), &r)))
        return e;
    if ((!r.slash || !(e = stat_final(&r, &st))) &&
        utimensat(r.dirfd, r.name, ts, AT_SYMLINK_NOFOLLOW) != 0)
        e = wh_wasi_errno(errno);
    unresolve(&r);
    return e;
}

/* Hard links: both ends resolve inside their own roots, so a link can
 * never name a file outside. A trailing slash on the source asks for a
 * directory, which cannot be linked. */
static int path_link(wh_wasi_call *cx, const wharf_slot *a)
{
    resolved o, n;
    struct stat st;
    int e = at_path(cx, WH_A32(0), WH_R_PATH_LINK_SOURCE, WH_A32(2), WH_A32(3),
                    follow_flag(WH_A32(1)), &o);
    if (e)
        return e;
    if (o.slash && !(e = stat_final(&o, &st)))
        e = WH_E_PERM;
    if (!e && !(e = at_path(cx, WH_A32(4), WH_R_PATH_LINK_TARGET, WH_A32(5),
                            WH_A32(6), RES_PARENT, &n))) {
        if (linkat(o.dirfd, o.name, n.dirfd, entry_name(&n), 0) != 0)
            e = wh_wasi_errno(errno);
        unresolve(&n);
    }
    unresolve(&o);
    return e;
}

/* Host open(2) flags for a path_open; *err is set for invalid requests. */
static int open_flags(uint32_t oflags, uint64_t base, uint32_t fdflags,
                      bool slash, int *err)
{
    int fl = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    bool rd = base & (WH_R_FD_READ | WH_R_FD_READDIR);
    bool wr = (base & WH_RIGHTS_WRITE) || (oflags & WH_O_TRUNC);
    *err = 0;
    if ((oflags & ~(uint32_t)WH_O_ALL) || (fdflags & ~(uint32_t)WH_FDF_ALL) ||
        ((oflags & WH_O_DIRECTORY) &&
         (oflags & (WH_O_CREAT | WH_O_EXCL | WH_O_TRUNC))))
        *err = WH_E_INVAL;
    else if (slash && (oflags & WH_O_CREAT))
        *err = WH_E_ISDIR;
    fl |= wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    fl |= (oflags & WH_O_CREAT ? O_CREAT : 0) | (oflags & WH_O_EXCL ? O_EXCL : 0) |
          (oflags & WH_O_TRUNC ? O_TRUNC : 0) |
          (oflags & WH_O_DIRECTORY || slash ? O_DIRECTORY : 0);
    fl |= (fdflags & WH_FDF_APPEND ? O_APPEND : 0) |
          (fdflags & WH_FDF_DSYNC ? O_DSYNC : 0) |
          (fdflags & WH_FDF_NONBLOCK ? O_NONBLOCK : 0) |
          (fdflags & WH_FDF_RSYNC ? O_RSYNC : 0) |
          (fdflags & WH_FDF_SYNC ? O_SYNC : 0);
    return fl;
}

/* The new fd gets the requested rights that the directory may pass on
 * (never more), limited to what its kind of file can use. */
static int path_open(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t oflags = WH_A32(4), fdflags = WH_A32(7), out = WH_A32(8);
    uint64_t base = WH_A64(5), inh = WH_A64(6);
    wh_wasi_fd *d;
    resolved r;
    int e = dir_of(cx, WH_A32(0), WH_R_PATH_OPEN, &d);
    if (e)
        return e;
    uint64_t need = (oflags & WH_O_CREAT ? WH_R_PATH_CREATE_FILE : 0) |
                    (oflags & WH_O_TRUNC ? WH_R_PATH_FILESTAT_SET_SIZE : 0);
    if ((d->base & need) != need)
        return WH_E_NOTCAPABLE;
    if (!wh_wasi_ok(cx, out, 4))
        return WH_E_FAULT;
    base &= d->inheriting;
    inh &= d->inheriting;
    /* O_CREAT | O_EXCL never follows a final symlink (POSIX): EXIST. */
    bool excl = (oflags & WH_O_CREAT) && (oflags & WH_O_EXCL);
    if ((e = at_path(cx, WH_A32(0), WH_R_PATH_OPEN, WH_A32(2), WH_A32(3),
                     excl ? 0 : follow_flag(WH_A32(1)), &r)))
        return e;
    int fl = open_flags(oflags, base, fdflags, r.slash, &e);
    int host = e ? -1 : openat(r.dirfd, r.name, fl, 0666);
    if (!e && host < 0)
        e = wh_wasi_errno(errno);
    unresolve(&r);
    uint32_t fd;
    if (!e && !(e = wh_wasi_fd_add(cx->w, host, base, inh, (uint16_t)fdflags, &fd)))
        wh_wasi_st32(cx, out, fd);
    return e;
}

/* A link longer than the buffer is cut short, as readlink(2) does. */
static int path_readlink(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t buf = WH_A32(3), len = WH_A32(4), used = WH_A32(5);
    char target[PATH_MAX];
    resolved r;
    if (!wh_wasi_ok(cx, buf, len) || !wh_wasi_ok(cx, used, 4))
        return WH_E_FAULT;
    int e = at_path(cx, WH_A32(0), WH_R_PATH_READLINK, WH_A32(1), WH_A32(2), 0,
                    &r);
    if (e)
        return e;
    ssize_t n = readlinkat(r.dirfd, r.name, target, sizeof target);
    if (n < 0)
        e = wh_wasi_errno(errno);
    unresolve(&r);
    if (e)
        return e;
    uint32_t k = (size_t)n < len ? (uint32_t)n : len;
    memcpy(cx->mem + buf, target, k);
    wh_wasi_st32(cx, used, k);
    return 0;
}

/* rmdir and unlink share everything but the flag. */
static int remove_at(wh_wasi_call *cx, const wharf_slot *a, uint64_t need,
                     int flag)
{
    resolved r;
    int e = at_path(cx, WH_A32(0), need, WH_A32(1), WH_A32(2), RES_PARENT, &r);
    if (e)
        return e;
    if (unlinkat(r.dirfd, entry_name(&r), flag) != 0)
        e = wh_wasi_errno(errno);
    unresolve(&r);
    return e;
}

static int path_remove_directory(wh_wasi_call *cx, const wharf_slot *a)
{
    return remove_at(cx, a, WH_R_PATH_REMOVE_DIRECTORY, AT_REMOVEDIR);
}

static int path_unlink_file(wh_wasi_call *cx, const wharf_slot *a)
{
    return remove_at(cx, a, WH_R_PATH_UNLINK_FILE, 0);
}

static int path_rename(wh_wasi_call *cx, const wharf_slot *a)
{
    resolved o, n;
    int e = at_path(cx, WH_A32(0), WH_R_PATH_RENAME_SOURCE, WH_A32(1),
                    WH_A32(2), RES_PARENT, &o);
    if (e)
        return e;
    if (!(e = at_path(cx, WH_A32(3), WH_R_PATH_RENAME_TARGET, WH_A32(4),
                      WH_A32(5), RES_PARENT, &n))) {
        if (renameat(o.dirfd, entry_name(&o), n.dirfd, entry_name(&n)) != 0)
            e = wh_wasi_errno(errno);
        unresolve(&n);
    }
    unresolve(&o);
    return e;
}

/* The link text is stored as given but may not be absolute: such a link
 * could only ever lead outside (following it is refused anyway), and a
 * host tool following it later would escape the sandbox for the guest. */
static int path_symlink(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t tlen = WH_A32(1);
    const char *t;
    resolved r;
    int e = guest_str(cx, WH_A32(0), tlen, &t);
    if (e)
        return e;
    if (tlen > 0 && t[0] == '/')
        return WH_E_PERM;
    char *target = strndup(t, tlen);
    if (!target)
        return WH_E_NOMEM;
    if (!(e = at_path(cx, WH_A32(2), WH_R_PATH_SYMLINK, WH_A32(3), WH_A32(4),
                      RES_PARENT, &r))) {
        if (symlinkat(target, r.dirfd, entry_name(&r)) != 0)
            e = wh_wasi_errno(errno);
        unresolve(&r);
    }
    free(target);
    return e;
}

const wh_wasi_func wh_wasi_path_funcs[] = {
    { "path_create_directory", "iii", "i", path_create_directory },
    { "path_filestat_get", "iiiii", "i", path_filestat_get },
    { "path_filestat_set_times", "iiiiIIi", "i", path_filestat_set_times },
    { "path_link", "iiiiiii", "i", path_link },
    { "path_open", "iiiiiIIii", "i", path_open },
    { "path_readlink", "iiiiii", "i", path_readlink },
    { "path_remove_directory", "iii", "i", path_remove_directory },
    { "path_rename", "iiiiii", "i", path_rename },
    { "path_symlink", "iiiii", "i", path_symlink },
    { "path_unlink_file", "iii", "i", path_unlink_file },
};
const size_t wh_wasi_path_nfuncs = WH_ARRAY_LEN(wh_wasi_path_funcs);
