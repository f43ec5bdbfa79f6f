/* raw.c: every wasi_snapshot_preview1 function called directly, with the
 * errno each case must give (witx; wasmtime where witx is vague).
 *
 * usage: raw.wasm SCRATCH a bb "c c"   (env FOO=bar and EMPTY= set)
 * SCRATCH is the guest name of an empty preopened directory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "check.h"

#define IMPORT(n) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(#n)))
IMPORT(args_sizes_get) int32_t raw_args_sizes_get(int32_t, int32_t);
IMPORT(environ_get) int32_t raw_environ_get(int32_t, int32_t);
IMPORT(clock_time_get) int32_t raw_clock_time_get(int32_t, int64_t, int32_t);
IMPORT(random_get) int32_t raw_random_get(int32_t, int32_t);
IMPORT(proc_raise) int32_t raw_proc_raise(int32_t);
IMPORT(fd_read) int32_t raw_fd_read(int32_t, int32_t, int32_t, int32_t);
IMPORT(fd_write) int32_t raw_fd_write(int32_t, int32_t, int32_t, int32_t);
IMPORT(fd_fdstat_get) int32_t raw_fd_fdstat_get(int32_t, int32_t);
IMPORT(fd_filestat_get) int32_t raw_fd_filestat_get(int32_t, int32_t);
IMPORT(fd_readdir) int32_t raw_fd_readdir(int32_t, int32_t, int32_t, int64_t, int32_t);
IMPORT(path_open) int32_t raw_path_open(int32_t, int32_t, int32_t, int32_t,
                                        int32_t, int64_t, int64_t, int32_t, int32_t);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(int32_t, int32_t, int32_t, int32_t);

#define BAD ((int32_t)0xfffffff0)   /* far past any guest memory */
#define P(x) ((int32_t)(intptr_t)(x))
#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | \
            __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET |               \
            __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | \
            __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_ADVISE |                  \
            __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC |                   \
            __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_POLL_FD_READWRITE)

static int open_at(int dir, const char *path, int oflags, uint64_t rights)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, 0, path, oflags, rights, rights, 0, &fd);
    return e ? -(int)e : (int)fd;
}

static void test_args_env(int argc, char **argv)
{
    __wasi_size_t n, size;
    ERRNO(__wasi_args_sizes_get(&n, &size), 0);
    CHECK(n == 5 && (int)n == argc, "argc %u", (unsigned)n);
    CHECK(!strcmp(argv[2], "a") && !strcmp(argv[4], "c c"), "argv");
    char **v = malloc(n * sizeof *v), *buf = malloc(size);
    ERRNO(__wasi_args_get((uint8_t **)v, (uint8_t *)buf), 0);
    CHECK(!strcmp(v[3], "bb") && buf[size - 1] == 0, "args_get");
    ERRNO(raw_args_sizes_get(BAD, P(&size)), __WASI_ERRNO_FAULT);
    ERRNO(__wasi_environ_sizes_get(&n, &size), 0);
    CHECK(n == 2, "nenv %u", (unsigned)n);
    char **e = malloc(n * sizeof *e), *ebuf = malloc(size);
    ERRNO(__wasi_environ_get((uint8_t **)e, (uint8_t *)ebuf), 0);
    CHECK(!strcmp(e[0], "FOO=bar") && !strcmp(e[1], "EMPTY="), "environ");
    CHECK(getenv("FOO") && !strcmp(getenv("FOO"), "bar"), "getenv");
    ERRNO(raw_environ_get(P(e), BAD), __WASI_ERRNO_FAULT);
    free(v); free(buf); free(e); free(ebuf);
}

static void test_clocks_random(void)
{
    __wasi_timestamp_t t0, t1, r;
    for (int id = 0; id < 4; id++) {
        ERRNO(__wasi_clock_res_get(id, &r), 0);
        CHECK(r > 0 && r <= 1000000000, "res %d", id);
        ERRNO(__wasi_clock_time_get(id, 1, &t0), 0);
    }
    ERRNO(__wasi_clock_res_get(4, &r), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_clock_time_get(99, 0, &r), __WASI_ERRNO_INVAL);
    ERRNO(raw_clock_time_get(1, 0, BAD), __WASI_ERRNO_FAULT);
    ERRNO(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t0), 0);
    ERRNO(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t1), 0);
    CHECK(t1 >= t0, "monotonic");
    ERRNO(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &t0), 0);
    CHECK(t0 > 1600000000ull * 1000000000ull, "realtime %llu", (unsigned long long)t0);
    uint8_t a[64] = { 0 }, b[64] = { 0 };
    ERRNO(__wasi_random_get(a, sizeof a), 0);
    ERRNO(__wasi_random_get(b, sizeof b), 0);
    CHECK(memcmp(a, b, sizeof a) != 0, "random differs");
    ERRNO(__wasi_random_get(a, 0), 0);
    ERRNO(raw_random_get(BAD, 16), __WASI_ERRNO_FAULT);
    ERRNO(raw_proc_raise(15 /* TERM */), __WASI_ERRNO_NOTSUP);
    ERRNO(__wasi_sched_yield(), 0);
}

static void test_prestat(int dir, const char *name)
{
    __wasi_prestat_t ps;
    char buf[256];
    ERRNO(__wasi_fd_prestat_get(dir, &ps), 0);
    CHECK(ps.tag == __WASI_PREOPENTYPE_DIR && ps.u.dir.pr_name_len == strlen(name),
          "prestat");
    ERRNO(__wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, 1), __WASI_ERRNO_NAMETOOLONG);
    ERRNO(__wasi_fd_prestat_get(0, &ps), __WASI_ERRNO_BADF);
    ERRNO(__wasi_fd_prestat_get(4000, &ps), __WASI_ERRNO_BADF);
    ERRNO(__wasi_fd_prestat_dir_name(4000, (uint8_t *)buf, 10), __WASI_ERRNO_BADF);
    __wasi_fdstat_t st;
    ERRNO(__wasi_fd_fdstat_get(dir, &st), 0);
    CHECK(st.fs_filetype == __WASI_FILETYPE_DIRECTORY, "dir type");
    CHECK((st.fs_rights_base & __WASI_RIGHTS_PATH_OPEN) &&
          !(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE), "dir rights");
    CHECK(st.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE, "dir inheriting");
    ERRNO(raw_fd_fdstat_get(dir, BAD), __WASI_ERRNO_FAULT);
}

/* Reads and writes through a fresh file: iovecs, offsets, positioned I/O. */
static void test_rw(int dir)
{
    int fd = open_at(dir, "f", __WASI_OFLAGS_CREAT, RW);
    CHECK(fd > 2, "open f: %d", fd);
    __wasi_ciovec_t w[2] = { { (const uint8_t *)"hello ", 6 },
                             { (const uint8_t *)"world", 5 } };
    __wasi_size_t n;
    __wasi_filesize_t pos;
    ERRNO(__wasi_fd_write(fd, w, 2, &n), 0);
    CHECK(n == 11, "wrote %u", (unsigned)n);
    ERRNO(__wasi_fd_tell(fd, &pos), 0);
    CHECK(pos == 11, "tell");
    ERRNO(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
    char a[5], b[100] = { 0 };
    __wasi_iovec_t r[2] = { { (uint8_t *)a, 5 }, { (uint8_t *)b, 100 } };
    ERRNO(__wasi_fd_read(fd, r, 2, &n), 0);
    CHECK(n == 11 && !memcmp(a, "hello", 5) && !strcmp(b, " world"), "read");
    ERRNO(__wasi_fd_seek(fd, -3, __WASI_WHENCE_END, &pos), 0);
    CHECK(pos == 8, "seek end");
    ERRNO(__wasi_fd_seek(fd, 0, 7, &pos), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_fd_pread(fd, r, 1, 6, &n), 0);
    CHECK(n == 5 && !memcmp(a, "world", 5), "pread");
    __wasi_ciovec_t up = { (const uint8_t *)"HELLO", 5 };
    ERRNO(__wasi_fd_pwrite(fd, &up, 1, 0, &n), 0);
    ERRNO(__wasi_fd_tell(fd, &pos), 0);
    CHECK(pos == 8, "positioned I/O keeps the offset");
    ERRNO(__wasi_fd_pread(fd, r, 1, 0, &n), 0);
    CHECK(!memcmp(a, "HELLO", 5), "pwrite");
    /* A bad pointer anywhere fails with FAULT and consumes nothing. */
    __wasi_iovec_t bad = { (uint8_t *)(intptr_t)BAD, 4 };
    ERRNO(__wasi_fd_read(fd, &bad, 1, &n), __WASI_ERRNO_FAULT);
    ERRNO(raw_fd_read(fd, BAD, 1, P(&n)), __WASI_ERRNO_FAULT);
    ERRNO(raw_fd_read(fd, P(r), 1, BAD), __WASI_ERRNO_FAULT);
    ERRNO(raw_fd_write(fd, P(w), 1, BAD), __WASI_ERRNO_FAULT);
    ERRNO(__wasi_fd_tell(fd, &pos), 0);
    CHECK(pos == 8, "nothing consumed on FAULT");
    ERRNO(__wasi_fd_close(fd), 0);
    ERRNO(__wasi_fd_close(fd), __WASI_ERRNO_BADF);
    ERRNO(__wasi_fd_read(fd, r, 1, &n), __WASI_ERRNO_BADF);
}

static void test_attrs(int dir)
{
    int fd = open_at(dir, "f", 0, RW);
    __wasi_filestat_t fs;
    ERRNO(__wasi_fd_filestat_get(fd, &fs), 0);
    CHECK(fs.filetype == __WASI_FILETYPE_REGULAR_FILE && fs.size == 11 &&
          fs.nlink == 1, "filestat");
    ERRNO(raw_fd_filestat_get(fd, BAD), __WASI_ERRNO_FAULT);
    ERRNO(__wasi_fd_filestat_set_size(fd, 100), 0);
    ERRNO(__wasi_fd_filestat_get(fd, &fs), 0);
    CHECK(fs.size == 100, "set_size");
    ERRNO(__wasi_fd_filestat_set_times(fd, 1000000000000ull, 2000000000000ull,
          __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), 0);
    ERRNO(__wasi_fd_filestat_get(fd, &fs), 0);
    CHECK(fs.atim == 1000000000000ull && fs.mtim == 2000000000000ull, "set_times");
    ERRNO(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM |
          __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), 0);
    ERRNO(__wasi_fd_filestat_get(fd, &fs), 0);
    CHECK(fs.mtim > 2000000000000ull && fs.atim == 1000000000000ull, "mtim now");
    __wasi_errno_t e = __wasi_fd_allocate(fd, 0, 4096);
    CHECK(e == 0 || e == __WASI_ERRNO_NOTSUP, "allocate %d", e);
    ERRNO(__wasi_fd_filestat_get(fd, &fs), 0);
    CHECK(e || fs.size == 4096, "allocate size");
    for (int adv = 0; adv <= 5; adv++)
        ERRNO(__wasi_fd_advise(fd, 0, 100, adv), 0);
    ERRNO(__wasi_fd_advise(fd, 0, 100, 9), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_fd_sync(fd), 0);
    ERRNO(__wasi_fd_datasync(fd), 0);
    ERRNO(__wasi_fd_filestat_set_size(fd, 11), 0);
    ERRNO(__wasi_fd_close(fd), 0);
}

static void test_fdstat(int dir)
{
    int fd = open_at(dir, "f", 0, RW);
    __wasi_fdstat_t st;
    __wasi_size_t n;
    __wasi_filesize_t pos;
    ERRNO(__wasi_fd_fdstat_get(fd, &st), 0);
    CHECK(st.fs_filetype == __WASI_FILETYPE_REGULAR_FILE && st.fs_flags == 0 &&
          st.fs_rights_base == RW && !(st.fs_rights_base & __WASI_RIGHTS_PATH_OPEN),
          "fdstat rights %llx", (unsigned long long)st.fs_rights_base);
    ERRNO(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
    ERRNO(__wasi_fd_fdstat_get(fd, &st), 0);
    CHECK(st.fs_flags == __WASI_FDFLAGS_APPEND, "append flag");
    __wasi_ciovec_t w = { (const uint8_t *)"!", 1 };
    ERRNO(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
    ERRNO(__wasi_fd_write(fd, &w, 1, &n), 0);
    ERRNO(__wasi_fd_tell(fd, &pos), 0);
    CHECK(pos == 12, "append writes at the end: %llu", (unsigned long long)pos);
    ERRNO(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_fd_fdstat_set_flags(fd, 0), 0);
    ERRNO(__wasi_fd_fdstat_set_rights(fd, RW & ~__WASI_RIGHTS_FD_WRITE, 0), 0);
    ERRNO(__wasi_fd_write(fd, &w, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_fdstat_set_rights(fd, RW, 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_fdstat_set_rights(fd, 0, 0), 0);
    ERRNO(__wasi_fd_tell(fd, &pos), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_fdstat_set_flags(fd, 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_close(fd), 0);
    ERRNO(__wasi_fd_fdstat_get(fd, &st), __WASI_ERRNO_BADF);
}

static void test_renumber(int dir)
{
    int a = open_at(dir, "f", 0, RW), b = open_at(dir, "g", __WASI_OFLAGS_CREAT, RW);
    __wasi_fdstat_t st;
    __wasi_filestat_t fs;
    ERRNO(__wasi_fd_renumber(a, b), 0);
    ERRNO(__wasi_fd_fdstat_get(a, &st), __WASI_ERRNO_BADF);
    ERRNO(__wasi_fd_filestat_get(b, &fs), 0);
    CHECK(fs.size == 12, "b is now f (size %llu)", (unsigned long long)fs.size);
    ERRNO(__wasi_fd_renumber(b, a), __WASI_ERRNO_BADF);
    ERRNO(__wasi_fd_renumber(b, b), 0);
    ERRNO(__wasi_fd_renumber(4000, b), __WASI_ERRNO_BADF);
    ERRNO(__wasi_fd_close(b), 0);
    int c = open_at(dir, "f", 0, RW);
    CHECK(c == a, "lowest free fd is reused (%d, %d)", c, a);
    ERRNO(__wasi_fd_close(c), 0);
}

#define DIRENT_SIZE ((int)sizeof(__wasi_dirent_t))

/* Lists `fd` from `cookie`; returns the entry count, names joined by ','. */
static int list(int fd, __wasi_dircookie_t cookie, char *names, __wasi_dircookie_t *third)
{
    uint8_t buf[4096];
    __wasi_size_t used;
    int count = 0;
    names[0] = 0;
    if (__wasi_fd_readdir(fd, buf, sizeof buf, cookie, &used) != 0)
        return -1;
    for (__wasi_size_t p = 0; p + DIRENT_SIZE <= used;) {
        __wasi_dirent_t d;
        memcpy(&d, buf + p, DIRENT_SIZE);
        strncat(names, (char *)buf + p + DIRENT_SIZE, d.d_namlen);
        strcat(names, ",");
        if (++count == 3 && third)
            *third = d.d_next;
        p += DIRENT_SIZE + d.d_namlen;
    }
    return count;
}

static void test_readdir(int dir)
{
    char names[512];
    __wasi_dircookie_t third = 0;
    __wasi_size_t used;
    uint8_t small[30];
    ERRNO(__wasi_path_create_directory(dir, "ls"), 0);
    int d = open_at(dir, "ls", __WASI_OFLAGS_DIRECTORY,
                    __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN |
                    __WASI_RIGHTS_PATH_CREATE_FILE);
    CHECK(d > 2, "open ls: %d", d);
    ERRNO(list(d, 0, names, NULL), 2);
    CHECK(!strcmp(names, ".,..,"), "empty dir lists . and ..: %s", names);
    for (const char *n = "a\0bb\0ccc\0"; *n; n += strlen(n) + 1)
        __wasi_fd_close(open_at(d, n, __WASI_OFLAGS_CREAT, 0));
    ERRNO(list(d, 0, names, &third), 5);
    CHECK(strstr(names, "bb,") && strstr(names, "ccc,"), "names %s", names);
    ERRNO(list(d, third, names, NULL), 2);
    ERRNO(list(d, 5, names, NULL), 0);
    ERRNO(__wasi_fd_readdir(d, small, sizeof small, 0, &used), 0);
    CHECK(used == sizeof small, "a full buffer means more to come (%u)", (unsigned)used);
    ERRNO(raw_fd_readdir(d, BAD, 100, 0, P(&used)), __WASI_ERRNO_FAULT);
    int f = open_at(dir, "f", 0, RW);
    ERRNO(__wasi_fd_readdir(f, small, sizeof small, 0, &used), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_readdir(4000, small, sizeof small, 0, &used), __WASI_ERRNO_BADF);
    __wasi_fd_close(f);
    __wasi_fd_close(d);
}

static void test_paths(int dir)
{
    __wasi_filestat_t fs;
    char buf[16] = { 0 };
    __wasi_size_t used;
    ERRNO(__wasi_path_create_directory(dir, "d"), 0);
    ERRNO(__wasi_path_create_directory(dir, "d"), __WASI_ERRNO_EXIST);
    ERRNO(__wasi_path_create_directory(dir, "d/x/y"), __WASI_ERRNO_NOENT);
    ERRNO(__wasi_path_filestat_get(dir, 0, "d", &fs), 0);
    CHECK(fs.filetype == __WASI_FILETYPE_DIRECTORY, "stat d");
    ERRNO(__wasi_path_filestat_get(dir, 0, "nope", &fs), __WASI_ERRNO_NOENT);
    ERRNO(__wasi_path_filestat_set_times(dir, 0, "d", 0, 5000000000ull,
          __WASI_FSTFLAGS_MTIM), 0);
    ERRNO(__wasi_path_filestat_get(dir, 0, "d", &fs), 0);
    CHECK(fs.mtim == 5000000000ull, "path set_times");
    ERRNO(__wasi_path_filestat_set_times(dir, 0, "d", 0, 0, 16), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_path_symlink("d", dir, "ld"), 0);
    ERRNO(__wasi_path_readlink(dir, "ld", (uint8_t *)buf, sizeof buf, &used), 0);
    CHECK(used == 1 && buf[0] == 'd', "readlink");
    ERRNO(__wasi_path_readlink(dir, "d", (uint8_t *)buf, sizeof buf, &used),
          __WASI_ERRNO_INVAL);
    ERRNO(__wasi_path_filestat_get(dir, 0, "ld", &fs), 0);
    CHECK(fs.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "lstat");
    ERRNO(__wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "ld", &fs), 0);
    CHECK(fs.filetype == __WASI_FILETYPE_DIRECTORY, "stat through link");
    ERRNO(__wasi_path_link(dir, 0, "f", dir, "f2"), 0);
    ERRNO(__wasi_path_filestat_get(dir, 0, "f", &fs), 0);
    CHECK(fs.nlink == 2, "nlink %llu", (unsigned long long)fs.nlink);
    ERRNO(__wasi_path_link(dir, 0, "d", dir, "d2"), __WASI_ERRNO_PERM);
    ERRNO(__wasi_path_link(dir, 0, "f", dir, "f2"), __WASI_ERRNO_EXIST);
    ERRNO(__wasi_path_rename(dir, "f2", dir, "d/f3"), 0);
    ERRNO(__wasi_path_filestat_get(dir, 0, "f2", &fs), __WASI_ERRNO_NOENT);
    ERRNO(__wasi_path_remove_directory(dir, "d"), __WASI_ERRNO_NOTEMPTY);
    ERRNO(__wasi_path_remove_directory(dir, "f"), __WASI_ERRNO_NOTDIR);
    ERRNO(__wasi_path_unlink_file(dir, "d"), __WASI_ERRNO_ISDIR);
    ERRNO(__wasi_path_unlink_file(dir, "d/f3"), 0);
    ERRNO(__wasi_path_unlink_file(dir, "ld"), 0);
    ERRNO(__wasi_path_remove_directory(dir, "d/"), 0);
    ERRNO(__wasi_path_unlink_file(dir, "f/"), __WASI_ERRNO_NOTDIR);
}

static void test_open_flags(int dir)
{
    __wasi_fd_t fd;
    __wasi_filestat_t fs;
    const char bad[] = "f\0x";
    ERRNO(__wasi_path_open(dir, 0, "f", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL,
                           RW, 0, 0, &fd), __WASI_ERRNO_EXIST);
    ERRNO(__wasi_path_open(dir, 0, "f", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd),
          __WASI_ERRNO_NOTDIR);
    ERRNO(__wasi_path_open(dir, 0, "f/", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOTDIR);
    ERRNO(__wasi_path_open(dir, 0, "missing", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOENT);
    ERRNO(__wasi_path_open(dir, 0, "f", 16, 0, 0, 0, &fd), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_path_open(dir, 0, "f", 0, 0, 0, 64, &fd), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_path_open(dir, 0, "x", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT,
                           0, 0, 0, &fd), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_path_open(dir, 0, ".", __WASI_OFLAGS_DIRECTORY,
                           __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &fd),
          __WASI_ERRNO_ISDIR);
    ERRNO(raw_path_open(dir, 0, P(bad), 3, 0, 0, 0, 0, P(&fd)), __WASI_ERRNO_INVAL);
    ERRNO(raw_path_open(dir, 0, P("\xff\xfe"), 2, 0, 0, 0, 0, P(&fd)), __WASI_ERRNO_ILSEQ);
    ERRNO(raw_path_open(dir, 0, BAD, 4, 0, 0, 0, 0, P(&fd)), __WASI_ERRNO_FAULT);
    ERRNO(raw_path_open(dir, 0, P("f"), 1, 0, 0, 0, 0, BAD), __WASI_ERRNO_FAULT);
    ERRNO(__wasi_path_open(dir, 0, "", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOENT);
    ERRNO(__wasi_path_open(dir, 0, "f", __WASI_OFLAGS_TRUNC, RW, 0, 0, &fd), 0);
    ERRNO(__wasi_fd_filestat_get(fd, &fs), 0);
    CHECK(fs.size == 0, "trunc");
    ERRNO(__wasi_path_open(fd, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOTDIR);
    __wasi_fd_close(fd);
}

/* Rights: a directory passes on only what it may; dropped rights stay off. */
static void test_rights(int dir)
{
    __wasi_fd_t sub, fd;
    __wasi_fdstat_t st;
    __wasi_size_t n;
    __wasi_ciovec_t w = { (const uint8_t *)"x", 1 };
    ERRNO(__wasi_path_create_directory(dir, "r"), 0);
    ERRNO(__wasi_path_open(dir, 0, "r", __WASI_OFLAGS_DIRECTORY,
                           __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_CREATE_FILE,
                           __WASI_RIGHTS_FD_READ, 0, &sub), 0);
    ERRNO(__wasi_path_open(sub, 0, "file", __WASI_OFLAGS_CREAT,
                           __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &fd), 0);
    ERRNO(__wasi_fd_fdstat_get(fd, &st), 0);
    CHECK(st.fs_rights_base == __WASI_RIGHTS_FD_READ, "inherited %llx",
          (unsigned long long)st.fs_rights_base);
    ERRNO(__wasi_fd_write(fd, &w, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    __wasi_fd_close(fd);
    ERRNO(__wasi_path_create_directory(sub, "x"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_path_unlink_file(sub, "file"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_fdstat_set_rights(sub, __WASI_RIGHTS_PATH_OPEN, 0), 0);
    ERRNO(__wasi_path_open(sub, 0, "new", __WASI_OFLAGS_CREAT, 0, 0, 0, &fd),
          __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_path_open(sub, 0, "file", __WASI_OFLAGS_TRUNC, 0, 0, 0, &fd),
          __WASI_ERRNO_NOTCAPABLE);
    __wasi_fd_close(sub);
    ERRNO(__wasi_path_unlink_file(dir, "r/file"), 0);
    ERRNO(__wasi_path_remove_directory(dir, "r"), 0);
}

static void test_poll(int dir)
{
    __wasi_subscription_t s[3];
    __wasi_event_t ev[3];
    __wasi_size_t n;
    __wasi_timestamp_t t0, t1;
    memset(s, 0, sizeof s);
    ERRNO(__wasi_poll_oneoff(s, ev, 0, &n), __WASI_ERRNO_INVAL);
    s[0].userdata = 42;
    s[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    s[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s[0].u.u.clock.timeout = 20000000;
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t0);
    ERRNO(__wasi_poll_oneoff(s, ev, 1, &n), 0);
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t1);
    CHECK(n == 1 && ev[0].userdata == 42 && ev[0].type == __WASI_EVENTTYPE_CLOCK &&
          ev[0].error == 0, "clock event");
    CHECK(t1 - t0 >= 20000000, "slept %llu ns", (unsigned long long)(t1 - t0));
    s[0].u.u.clock.id = __WASI_CLOCKID_REALTIME;
    s[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &t0);
    s[0].u.u.clock.timeout = t0 + 10000000;
    ERRNO(__wasi_poll_oneoff(s, ev, 1, &n), 0);
    __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &t1);
    CHECK(n == 1 && t1 >= t0 + 10000000, "absolute realtime deadline");
    s[0].u.u.clock.id = __WASI_CLOCKID_PROCESS_CPUTIME_ID;
    ERRNO(__wasi_poll_oneoff(s, ev, 1, &n), __WASI_ERRNO_INVAL);
    int f = open_at(dir, "p", __WASI_OFLAGS_CREAT, RW);
    __wasi_ciovec_t w = { (const uint8_t *)"abc", 3 };
    __wasi_fd_write(f, &w, 1, &n);
    __wasi_filesize_t pos;
    __wasi_fd_seek(f, 1, __WASI_WHENCE_SET, &pos);
    s[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    s[0].u.u.fd_read.file_descriptor = f;
    s[1] = s[0];
    s[1].userdata = 7;
    s[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    s[1].u.u.fd_write.file_descriptor = 4000;
    ERRNO(__wasi_poll_oneoff(s, ev, 2, &n), 0);
    CHECK(n == 2 && ev[0].type == __WASI_EVENTTYPE_FD_READ && ev[0].error == 0 &&
          ev[0].fd_readwrite.nbytes == 2, "file readable (%u events)", (unsigned)n);
    CHECK(ev[1].userdata == 7 && ev[1].error == __WASI_ERRNO_BADF, "bad fd event");
    ERRNO(raw_poll_oneoff(BAD, P(ev), 1, P(&n)), __WASI_ERRNO_FAULT);
    ERRNO(raw_poll_oneoff(P(s), P(ev), 1, BAD), __WASI_ERRNO_FAULT);
    s[0].u.tag = 9;
    ERRNO(__wasi_poll_oneoff(s, ev, 1, &n), __WASI_ERRNO_INVAL);
    __wasi_fd_close(f);
    ERRNO(__wasi_path_unlink_file(dir, "p"), 0);
}

static void test_sock(int dir)
{
    int f = open_at(dir, "f", 0, RW);
    __wasi_fd_t nfd;
    __wasi_size_t n;
    __wasi_roflags_t ro;
    uint8_t b[4];
    __wasi_iovec_t r = { b, 4 };
    __wasi_ciovec_t w = { b, 4 };
    ERRNO(__wasi_sock_accept(f, 0, &nfd), __WASI_ERRNO_NOTSOCK);
    ERRNO(__wasi_sock_recv(f, &r, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK);
    ERRNO(__wasi_sock_send(f, &w, 1, 0, &n), __WASI_ERRNO_NOTSOCK);
    ERRNO(__wasi_sock_shutdown(f, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
    ERRNO(__wasi_sock_shutdown(4000, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF);
    ERRNO(__wasi_sock_accept(4000, 0, &nfd), __WASI_ERRNO_BADF);
    __wasi_fd_close(f);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int dir = find_preopen(argv[1]);
    CHECK(dir > 2, "preopen %s not found", argv[1]);
    if (dir < 0)
        return test_done();
    test_args_env(argc, argv);
    test_clocks_random();
    test_prestat(dir, argv[1]);
    test_rw(dir);
    test_attrs(dir);
    test_fdstat(dir);
    test_renumber(dir);
    test_readdir(dir);
    test_paths(dir);
    test_open_flags(dir);
    test_rights(dir);
    test_poll(dir);
    test_sock(dir);
    return test_done();
}
