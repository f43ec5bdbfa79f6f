/* escape.c: adversarial sandbox tests. Every attempt to reach outside the
 * preopened directory must fail; paths that stay inside must work.
 *
 * usage: escape.wasm BOXNAME   with BOXNAME preopened; tests/cli/wasi.sh
 * builds the host layout (box/ inside outside/, next to secret.txt, and
 * the symlinks below) and afterwards checks that nothing outside changed:
 *   box/inside.txt "inside"      box/sub/up -> ..      box/esc -> ../secret.txt
 *   box/escdir -> ..             box/abs -> /etc/passwd
 *   box/chain1 -> chain2 -> chain3 -> ../secret.txt
 *   box/okchain1 -> okchain2 -> inside.txt
 *   box/loop1 <-> box/loop2      box/self -> self      box/dangling -> nowhere
 *   box/dangle_out -> ../created_outside   box/sub/deep -> ../../secret.txt */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "check.h"

#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define R_ALL (~(__wasi_rights_t)0)

static int box;

/* Opens `path` below `dir` for reading: the fd, or minus the errno. */
static int op(int dir, int lookup, const char *path, int oflags)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, lookup, path, oflags,
                                        __WASI_RIGHTS_FD_READ, R_ALL, 0, &fd);
    return e ? -(int)e : (int)fd;
}

/* An escape must fail with PERM (wasmtime) or NOTCAPABLE. */
#define DENIED(call)                                                       \
    do {                                                                   \
        int e_ = (int)(call);                                              \
        CHECK(e_ == __WASI_ERRNO_PERM || e_ == __WASI_ERRNO_NOTCAPABLE ||  \
              e_ == -__WASI_ERRNO_PERM || e_ == -__WASI_ERRNO_NOTCAPABLE,  \
              "%s escaped: %d", #call, e_);                                \
    } while (0)

/* Opens `path` (following links) and checks it reads "inside". */
static void reads_inside(int dir, const char *path)
{
    char buf[16] = { 0 };
    __wasi_iovec_t v = { (uint8_t *)buf, sizeof buf - 1 };
    __wasi_size_t n = 0;
    int fd = op(dir, FOLLOW, path, 0);
    CHECK(fd > 0, "open %s: %d", path, fd);
    if (fd <= 0)
        return;
    ERRNO(__wasi_fd_read(fd, &v, 1, &n), 0);
    CHECK(!strcmp(buf, "inside"), "%s read '%s'", path, buf);
    ERRNO(__wasi_fd_close(fd), 0);
}

static void test_dotdot(void)
{
    DENIED(op(box, FOLLOW, "/etc/passwd", 0));
    DENIED(op(box, FOLLOW, "/", 0));
    DENIED(op(box, FOLLOW, "..", 0));
    DENIED(op(box, FOLLOW, "../secret.txt", 0));
    DENIED(op(box, FOLLOW, "sub/../../secret.txt", 0));
    DENIED(op(box, FOLLOW, "sub/../sub/../../secret.txt", 0));
    DENIED(op(box, FOLLOW, "./../box/inside.txt", 0));
    reads_inside(box, "sub/../inside.txt");
    reads_inside(box, "./sub/.././/inside.txt");
    reads_inside(box, "sub/up/inside.txt");
    reads_inside(box, "sub/up/sub/up/sub/up/inside.txt");
    DENIED(op(box, FOLLOW, "sub/up/../secret.txt", 0));
    ERRNO(-op(box, FOLLOW, "inside.txt/..", 0), __WASI_ERRNO_NOTDIR);
}

static void test_symlinks(void)
{
    DENIED(op(box, FOLLOW, "esc", 0));
    ERRNO(-op(box, 0, "esc", 0), __WASI_ERRNO_LOOP);
    DENIED(op(box, FOLLOW, "escdir/secret.txt", 0));
    DENIED(op(box, 0, "escdir/secret.txt", 0));
    DENIED(op(box, FOLLOW, "escdir", __WASI_OFLAGS_DIRECTORY));
    DENIED(op(box, FOLLOW, "abs", 0));
    DENIED(op(box, FOLLOW, "abs/..", 0));
    DENIED(op(box, FOLLOW, "chain1", 0));
    DENIED(op(box, FOLLOW, "sub/deep", 0));
    reads_inside(box, "okchain1");
    ERRNO(-op(box, FOLLOW, "loop1", 0), __WASI_ERRNO_LOOP);
    ERRNO(-op(box, FOLLOW, "loop1/x", 0), __WASI_ERRNO_LOOP);
    ERRNO(-op(box, FOLLOW, "self", 0), __WASI_ERRNO_LOOP);
    ERRNO(-op(box, 0, "self", 0), __WASI_ERRNO_LOOP);
    ERRNO(-op(box, FOLLOW, "dangling", 0), __WASI_ERRNO_NOENT);
    ERRNO(-op(box, 0, "dangling", 0), __WASI_ERRNO_LOOP);
    DENIED(op(box, FOLLOW, "dangle_out", __WASI_OFLAGS_CREAT));
    ERRNO(-op(box, 0, "dangle_out", __WASI_OFLAGS_CREAT), __WASI_ERRNO_LOOP);
    ERRNO(-op(box, FOLLOW, "dangle_out", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL),
          __WASI_ERRNO_EXIST);
    /* A link may be created with any relative text; following it is what
     * is checked. Absolute link text is refused outright. */
    ERRNO(__wasi_path_symlink("../secret.txt", box, "newesc"), 0);
    DENIED(op(box, FOLLOW, "newesc", 0));
    DENIED(__wasi_path_symlink("/etc/passwd", box, "newabs"));
    ERRNO(__wasi_path_unlink_file(box, "newesc"), 0);
    char buf[64] = { 0 };
    __wasi_size_t used;
    ERRNO(__wasi_path_readlink(box, "esc", (uint8_t *)buf, sizeof buf, &used), 0);
    CHECK(used == 13 && !memcmp(buf, "../secret.txt", 13), "readlink text");
    DENIED(__wasi_path_readlink(box, "escdir/x", (uint8_t *)buf, sizeof buf, &used));
}

static void test_metadata(void)
{
    __wasi_filestat_t fs;
    DENIED(__wasi_path_filestat_get(box, FOLLOW, "esc", &fs));
    ERRNO(__wasi_path_filestat_get(box, 0, "esc", &fs), 0);
    CHECK(fs.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "lstat of esc");
    DENIED(__wasi_path_filestat_get(box, 0, "..", &fs));
    DENIED(__wasi_path_filestat_get(box, 0, "../secret.txt", &fs));
    ERRNO(__wasi_path_filestat_get(box, 0, ".", &fs), 0);
    DENIED(__wasi_path_filestat_set_times(box, FOLLOW, "esc", 0, 0,
                                          __WASI_FSTFLAGS_MTIM));
    DENIED(__wasi_path_filestat_set_times(box, 0, "../secret.txt", 0, 0,
                                          __WASI_FSTFLAGS_MTIM));
}

static void test_mutations(void)
{
    DENIED(__wasi_path_create_directory(box, "../newdir"));
    DENIED(__wasi_path_create_directory(box, "escdir/newdir"));
    DENIED(__wasi_path_unlink_file(box, "../secret.txt"));
    DENIED(__wasi_path_unlink_file(box, "escdir/secret.txt"));
    DENIED(__wasi_path_remove_directory(box, "../box"));
    DENIED(__wasi_path_rename(box, "inside.txt", box, "../moved"));
    DENIED(__wasi_path_rename(box, "escdir/secret.txt", box, "stolen"));
    DENIED(__wasi_path_rename(box, "sub", box, "escdir/sub"));
    DENIED(__wasi_path_link(box, FOLLOW, "esc", box, "hard"));
    DENIED(__wasi_path_link(box, 0, "../secret.txt", box, "hard"));
    DENIED(__wasi_path_link(box, 0, "escdir/secret.txt", box, "hard"));
    DENIED(__wasi_path_link(box, 0, "inside.txt", box, "../hard"));
    DENIED(__wasi_path_symlink("inside.txt", box, "../planted"));
    /* Linking the symlink itself is harmless: it still cannot be followed. */
    ERRNO(__wasi_path_link(box, 0, "esc", box, "esc2"), 0);
    DENIED(op(box, FOLLOW, "esc2", 0));
    ERRNO(__wasi_path_unlink_file(box, "esc2"), 0);
}

/* A directory opened from the preopen is a root of its own. */
static void test_subdir_root(void)
{
    int sub = op(box, 0, "sub", __WASI_OFLAGS_DIRECTORY);
    CHECK(sub > 0, "open sub: %d", sub);
    DENIED(op(sub, FOLLOW, "..", 0));
    DENIED(op(sub, FOLLOW, "../inside.txt", 0));
    DENIED(op(sub, FOLLOW, "up/inside.txt", 0));
    DENIED(op(sub, FOLLOW, "deep", 0));
    ERRNO(__wasi_fd_close(sub), 0);
}

static void test_limits_and_fds(void)
{
    size_t n = 6000;
    char *longp = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2)
        memcpy(longp + i, "a/", 2);
    longp[n] = 0;
    ERRNO(-op(box, FOLLOW, longp, 0), __WASI_ERRNO_NAMETOOLONG);
    free(longp);
    char name[300];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = 0;
    ERRNO(-op(box, FOLLOW, name, 0), __WASI_ERRNO_NAMETOOLONG);
    /* Only stdio and the preopen exist; fds the host had open do not leak. */
    int open_fds = 0;
    for (int fd = 0; fd < 256; fd++) {
        __wasi_fdstat_t st;
        open_fds += __wasi_fd_fdstat_get(fd, &st) == 0;
    }
    CHECK(open_fds == 4, "%d fds visible", open_fds);
    int ro = op(box, 0, "inside.txt", 0);
    __wasi_ciovec_t w = { (const uint8_t *)"x", 1 };
    __wasi_size_t nw;
    ERRNO(__wasi_fd_write(ro, &w, 1, &nw), __WASI_ERRNO_NOTCAPABLE);
    ERRNO(__wasi_fd_close(ro), 0);
}

int main(int argc, char **argv)
{
    box = argc > 1 ? find_preopen(argv[1]) : -1;
    CHECK(box > 2, "preopen not found");
    if (box < 0)
        return test_done();
    test_limits_and_fds();
    test_dotdot();
    test_symlinks();
    test_metadata();
    test_mutations();
    test_subdir_root();
    return test_done();
}
