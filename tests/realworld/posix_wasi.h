/* posix_wasi.h: POSIX calls that wasi-libc (2022) lacks and SQLite's unix
 * VFS and bzip2 use; force-included (-include) when compiling them for
 * wasm32-wasi. A WASI guest is one process with no users and WASI files
 * have no modes, so advisory locks always succeed and ownership and mode
 * changes are no-ops. */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* wasi-libc declares struct flock but neither the lock commands nor the
 * lock types; the commands are numbered apart from F_GETFD..F_SETFL. */
#define F_GETLK  100
#define F_SETLK  101
#define F_SETLKW 102
#define F_RDLCK  0
#define F_WRLCK  1
#define F_UNLCK  2

static inline int fchmod(int fd, mode_t mode)
{
    (void)fd; (void)mode;
    return 0;
}
static inline int chmod(const char *path, mode_t mode)
{
    (void)path; (void)mode;
    return 0;
}
static inline int fchown(int fd, uid_t uid, gid_t gid)
{
    (void)fd; (void)uid; (void)gid;
    return 0;
}
static inline uid_t geteuid(void) { return 0; }

/* fcntl with locks: nobody else can hold one, so every request succeeds. */
static inline int wasi_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (cmd == F_GETLK)
        ((struct flock *)arg)->l_type = F_UNLCK;
    if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW)
        return 0;
    return fcntl(fd, cmd, (int)(intptr_t)arg);
}
#define fcntl wasi_fcntl
