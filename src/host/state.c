/* state.c: the files of the state directory (state.h): atomic writes
 * (temporary file, fsync, rename, fsync of the directory), reads with
 * hash checks, listing and garbage collection. Owns no policy: which
 * modules to keep and what a record says are the registry's business.
 *
 * Temporary files start with '#', which no service name or hash can, so
 * the start-up sweep never deletes a real file. For tests, the
 * environment variable WHARF_TEST_STATE_WRITE_DELAY_MS makes every write
 * pause halfway for that long, so that a test can kill the server in the
 * middle of one (tests/cli/admin.sh). */
#define _GNU_SOURCE   /* O_DIRECTORY with openat */
#include "state.h"

#include "../base/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

struct wh_host_state {
    char *dir;
    int dirfd, modfd, svcfd;    /* the directories, for *at() and fsync */
    unsigned seq;               /* makes temporary names unique */
    uint64_t delay_ms;          /* the test pause; 0 normally */
};

void wh_host_sha256_hex(const uint8_t *bytes, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!EVP_Digest(bytes, len, md, &n, EVP_sha256(), NULL))
        n = 0;
    for (unsigned i = 0; i < n && i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[n ? 64 : 0] = '\0';
}

/* ---- Opening ------------------------------------------------------------ */

static int open_subdir(int parent, const char *name)
{
    if (mkdirat(parent, name, 0755) != 0 && errno != EEXIST)
        return -1;
    return openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A listing of directory `fd` from its start: the duplicate shares its
 * read position with every earlier listing. NULL on failure. */
static DIR *list_dir(int fd)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d && dup_fd >= 0)
        close(dup_fd);
    if (d)
        rewinddir(d);
    return d;
}

/* Deletes what an interrupted write left in directory `fd`. */
static void sweep_temporaries(int fd)
{
    DIR *d = list_dir(fd);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] == '#' && unlinkat(fd, e->d_name, 0) == 0)
            wh_host_log("warn", "msg=\"removed a file an interrupted write left\" file=%s",
                        e->d_name);
    closedir(d);
}

wh_host_state *wh_host_state_open(const char *dir, char *err, size_t errlen)
{
    wh_host_state *st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(dir))) {
        snprintf(err, errlen, "out of memory");
        free(st);
        return NULL;
    }
    st->modfd = st->svcfd = -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        st->dirfd = -1;
    else
        st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0 || (st->modfd = open_subdir(st->dirfd, "modules")) < 0 ||
        (st->svcfd = open_subdir(st->dirfd, "services")) < 0) {
        snprintf(err, errlen, "--state-dir %s: %s", dir, strerror(errno));
        wh_host_state_close(st);
        return NULL;
    }
    const char *delay = getenv("WHARF_TEST_STATE_WRITE_DELAY_MS");
    st->delay_ms = delay ? strtoull(delay, NULL, 10) : 0;
    sweep_temporaries(st->modfd);
    sweep_temporaries(st->svcfd);
    return st;
}

void wh_host_state_close(wh_host_state *st)
{
    if (!st)
        return;
    if (st->svcfd >= 0)
        close(st->svcfd);
    if (st->modfd >= 0)
        close(st->modfd);
    if (st->dirfd >= 0)
        close(st->dirfd);
    free(st->dir);
    free(st);
}

const char *wh_host_state_dir(const wh_host_state *st)
{
    return st->dir;
}

/* ---- Atomic writes ----------------------------------------------------- */

static void test_pause(const wh_host_state *st)
{
    struct timespec ts = { (time_t)(st->delay_ms / 1000),
                           (long)(st->delay_ms % 1000) * 1000000 };
    if (st->delay_ms)
        nanosleep(&ts, NULL);
}

/* Writes `name` in directory `dfd` so that it holds either its old bytes
 * or all of the new ones, whenever the process or machine stops. */
static bool write_atomic(wh_host_state *st, int dfd, const char *name,
                         const uint8_t *bytes, size_t len, char *err, size_t errlen)
{
    char tmp[400];
    snprintf(tmp, sizeof tmp, "#%d.%u.%s", (int)getpid(), st->seq++, name);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && wh_write_all(fd, bytes, len / 2);
    if (ok)
        test_pause(st);
    ok = ok && wh_write_all(fd, bytes + len / 2, len - len / 2) && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && (renameat(dfd, tmp, dfd, name) != 0 || fsync(dfd) != 0)) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlinkat(dfd, tmp, 0);
        snprintf(err, errlen, "cannot write %s/%s: %s", st->dir, name, strerror(saved));
    }
    return ok;
}

bool wh_host_state_put_module(wh_host_state *st, const char *sha256,
                              const uint8_t *bytes, size_t len,
                              char *err, size_t errlen)
{
    char name[80];
    snprintf(name, sizeof name, "%s.wasm", sha256);
    if (faccessat(st->modfd, name, F_OK, 0) == 0)
        return true;   /* named by its contents: there already means equal */
    return write_atomic(st, st->modfd, name, bytes, len, err, errlen);
}

bool wh_host_state_put_service(wh_host_state *st, const char *name,
                               const char *text, size_t len,
                               char *err, size_t errlen)
{
    char file[300];
    snprintf(file, sizeof file, "%s.json", name);
    return write_atomic(st, st->svcfd, file, (const uint8_t *)text, len, err, errlen);
}

bool wh_host_state_remove_service(wh_host_state *st, const char *name,
                                  char *err, size_t errlen)
{
    char file[300];
    snprintf(file, sizeof file, "%s.json", name);
    if ((unlinkat(st->svcfd, file, 0) != 0 && errno != ENOENT) || fsync(st->svcfd) != 0) {
        snprintf(err, errlen, "cannot remove %s/services/%s: %s", st->dir, file,
                 strerror(errno));
        return false;
    }
    return true;
}

/* ---- Reading --------------------------------------------------------------- */

/* The whole file `name` of directory `dfd`, NUL-terminated; NULL with
 * errno set. */
static char *read_at(int dfd, const char *name, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return NULL;
    char *buf = NULL;
    if (fstat(fd, &sb) == 0 && (buf = malloc((size_t)sb.st_size + 1))) {
        size_t n = 0;
        ssize_t got = 1;
        while (n < (size_t)sb.st_size &&
               ((got = read(fd, buf + n, (size_t)sb.st_size - n)) > 0 || errno == EINTR))
            n += got > 0 ? (size_t)got : 0;
        buf[n] = '\0';
        *len = n;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return buf;
}

uint8_t *wh_host_state_get_module(wh_host_state *st, const char *sha256,
                                  size_t *len, char *err, size_t errlen)
{
    char name[80], got[65];
    snprintf(name, sizeof name, "%s.wasm", sha256);
    char *bytes = read_at(st->modfd, name, len);
    if (!bytes) {
        snprintf(err, errlen, "module %s/modules/%s: %s", st->dir, name, strerror(errno));
        return NULL;
    }
    wh_host_sha256_hex((const uint8_t *)bytes, *len, got);
    if (strcmp(got, sha256) != 0) {
        snprintf(err, errlen, "module %s/modules/%s is corrupt (its SHA-256 is %s)",
                 st->dir, name, got);
        free(bytes);
        return NULL;
    }
    return (uint8_t *)bytes;
}

static int is_record(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '#' && e->d_name[0] != '.' && n > 5 &&
           !strcmp(e->d_name + n - 5, ".json");
}

void wh_host_state_each(wh_host_state *st, wh_host_state_fn fn, void *ctx)
{
    struct dirent **list;
    char path[4200];
    snprintf(path, sizeof path, "%s/services", st->dir);
    int n = scandir(path, &list, is_record, alphasort);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *text = read_at(st->svcfd, list[i]->d_name, &len);
        list[i]->d_name[strlen(list[i]->d_name) - 5] = '\0';
        if (text)
            fn(ctx, list[i]->d_name, text, len);
        else
            wh_host_log("error", "msg=\"cannot read a stored service\" service=%s error=\"%s\"",
                        list[i]->d_name, strerror(errno));
        free(text);
        free(list[i]);
    }
    if (n >= 0)
        free(list);
}

void wh_host_state_gc(wh_host_state *st, const char *const *keep, int n)
{
    DIR *d = list_dir(st->modfd);
    if (!d)
        return;
    bool removed = false;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len != 69 || strcmp(e->d_name + 64, ".wasm") != 0)
            continue;
        int i = 0;
        while (i < n && strncmp(keep[i], e->d_name, 64) != 0)
            i++;
        if (i == n && unlinkat(st->modfd, e->d_name, 0) == 0)
            removed = true;
    }
    closedir(d);
    if (removed)
        fsync(st->modfd);
}
