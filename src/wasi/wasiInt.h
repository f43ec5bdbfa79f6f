/* wasiInt.h: internals shared by the WASI preview1 files.
 *
 *   wasi.c       state, linker glue, args/environ, clocks, random, proc_*
 *   wasi_fd.c    the fd table and every fd_* function
 *   wasi_path.c  sandboxed path resolution and every path_* function
 *   wasi_poll.c  poll_oneoff
 *   wasi_sock.c  sock_*
 *
 * Layouts and constants follow wasi_snapshot_preview1.witx. Every guest
 * pointer is checked with wh_wasi_ok() before use; host functions never
 * call back into the guest, so the memory pointer fetched at entry stays
 * valid for the whole call.
 */
#ifndef WH_WASI_INT_H
#define WH_WASI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../base/base.h"
#include "wasi.h"

/* ---- witx constants ---------------------------------------------------- */

enum {
    WH_E_SUCCESS = 0, WH_E_2BIG = 1, WH_E_ACCES = 2, WH_E_ADDRINUSE = 3,
    WH_E_ADDRNOTAVAIL = 4, WH_E_AFNOSUPPORT = 5, WH_E_AGAIN = 6,
    WH_E_ALREADY = 7, WH_E_BADF = 8, WH_E_BADMSG = 9, WH_E_BUSY = 10,
    WH_E_CANCELED = 11, WH_E_CHILD = 12, WH_E_CONNABORTED = 13,
    WH_E_CONNREFUSED = 14, WH_E_CONNRESET = 15, WH_E_DEADLK = 16,
    WH_E_DESTADDRREQ = 17, WH_E_DOM = 18, WH_E_DQUOT = 19, WH_E_EXIST = 20,
    WH_E_FAULT = 21, WH_E_FBIG = 22, WH_E_HOSTUNREACH = 23, WH_E_IDRM = 24,
    WH_E_ILSEQ = 25, WH_E_INPROGRESS = 26, WH_E_INTR = 27, WH_E_INVAL = 28,
    WH_E_IO = 29, WH_E_ISCONN = 30, WH_E_ISDIR = 31, WH_E_LOOP = 32,
    WH_E_MFILE = 33, WH_E_MLINK = 34, WH_E_MSGSIZE = 35, WH_E_MULTIHOP = 36,
    WH_E_NAMETOOLONG = 37, WH_E_NETDOWN = 38, WH_E_NETRESET = 39,
    WH_E_NETUNREACH = 40, WH_E_NFILE = 41, WH_E_NOBUFS = 42, WH_E_NODEV = 43,
    WH_E_NOENT = 44, WH_E_NOEXEC = 45, WH_E_NOLCK = 46, WH_E_NOLINK = 47,
    WH_E_NOMEM = 48, WH_E_NOMSG = 49, WH_E_NOPROTOOPT = 50, WH_E_NOSPC = 51,
    WH_E_NOSYS = 52, WH_E_NOTCONN = 53, WH_E_NOTDIR = 54, WH_E_NOTEMPTY = 55,
    WH_E_NOTRECOVERABLE = 56, WH_E_NOTSOCK = 57, WH_E_NOTSUP = 58,
    WH_E_NOTTY = 59, WH_E_NXIO = 60, WH_E_OVERFLOW = 61, WH_E_OWNERDEAD = 62,
    WH_E_PERM = 63, WH_E_PIPE = 64, WH_E_PROTO = 65, WH_E_PROTONOSUPPORT = 66,
    WH_E_PROTOTYPE = 67, WH_E_RANGE = 68, WH_E_ROFS = 69, WH_E_SPIPE = 70,
    WH_E_SRCH = 71, WH_E_STALE = 72, WH_E_TIMEDOUT = 73, WH_E_TXTBSY = 74,
    WH_E_XDEV = 75, WH_E_NOTCAPABLE = 76,
};

enum {
    WH_FT_UNKNOWN = 0, WH_FT_BLOCK = 1, WH_FT_CHAR = 2, WH_FT_DIR = 3,
    WH_FT_REG = 4, WH_FT_SOCK_DGRAM = 5, WH_FT_SOCK_STREAM = 6, WH_FT_LINK = 7,
};

/* fdflags, oflags, lookupflags, fstflags. */
enum { WH_FDF_APPEND = 1, WH_FDF_DSYNC = 2, WH_FDF_NONBLOCK = 4,
       WH_FDF_RSYNC = 8, WH_FDF_SYNC = 16, WH_FDF_ALL = 31 };
enum { WH_O_CREAT = 1, WH_O_DIRECTORY = 2, WH_O_EXCL = 4, WH_O_TRUNC = 8,
       WH_O_ALL = 15 };
enum { WH_LOOKUP_FOLLOW = 1 };
enum { WH_FST_ATIM = 1, WH_FST_ATIM_NOW = 2, WH_FST_MTIM = 4,
       WH_FST_MTIM_NOW = 8, WH_FST_ALL = 15 };

/* rights (witx `rights`, bit numbers in declaration order). */
#define WH_R(n) ((uint64_t)1 << (n))
#define WH_R_FD_DATASYNC            WH_R(0)
#define WH_R_FD_READ                WH_R(1)
#define WH_R_FD_SEEK                WH_R(2)
#define WH_R_FD_FDSTAT_SET_FLAGS    WH_R(3)
#define WH_R_FD_SYNC                WH_R(4)
#define WH_R_FD_TELL                WH_R(5)
#define WH_R_FD_WRITE               WH_R(6)
#define WH_R_FD_ADVISE              WH_R(7)
#define WH_R_FD_ALLOCATE            WH_R(8)
#define WH_R_PATH_CREATE_DIRECTORY  WH_R(9)
#define WH_R_PATH_CREATE_FILE       WH_R(10)
#define WH_R_PATH_LINK_SOURCE       WH_R(11)
#define WH_R_PATH_LINK_TARGET       WH_R(12)
#define WH_R_PATH_OPEN              WH_R(13)
#define WH_R_FD_READDIR             WH_R(14)
#define WH_R_PATH_READLINK          WH_R(15)
#define WH_R_PATH_RENAME_SOURCE     WH_R(16)
#define WH_R_PATH_RENAME_TARGET     WH_R(17)
#define WH_R_PATH_FILESTAT_GET      WH_R(18)
#define WH_R_PATH_FILESTAT_SET_SIZE WH_R(19)
#define WH_R_PATH_FILESTAT_SET_TIMES WH_R(20)
#define WH_R_FD_FILESTAT_GET        WH_R(21)
#define WH_R_FD_FILESTAT_SET_SIZE   WH_R(22)
#define WH_R_FD_FILESTAT_SET_TIMES  WH_R(23)
#define WH_R_PATH_SYMLINK           WH_R(24)
#define WH_R_PATH_REMOVE_DIRECTORY  WH_R(25)
#define WH_R_PATH_UNLINK_FILE       WH_R(26)
#define WH_R_POLL_FD_READWRITE      WH_R(27)
#define WH_R_SOCK_SHUTDOWN          WH_R(28)
#define WH_R_SOCK_ACCEPT            WH_R(29)

/* What each kind of descriptor can ever hold. Directory rights are the set
 * wasmtime reports for preopens (userlands expect exactly these) plus the
 * harmless fd_sync/fd_advise/fd_fdstat_set_flags; none of them asks for
 * write access when passed back to path_open. */
#define WH_RIGHTS_DIR                                                      \
    (WH_R_PATH_CREATE_DIRECTORY | WH_R_PATH_CREATE_FILE |                   \
     WH_R_PATH_LINK_SOURCE | WH_R_PATH_LINK_TARGET | WH_R_PATH_OPEN |       \
     WH_R_FD_READDIR | WH_R_PATH_READLINK | WH_R_PATH_RENAME_SOURCE |       \
     WH_R_PATH_RENAME_TARGET | WH_R_PATH_SYMLINK |                          \
     WH_R_PATH_REMOVE_DIRECTORY | WH_R_PATH_UNLINK_FILE |                   \
     WH_R_PATH_FILESTAT_GET | WH_R_PATH_FILESTAT_SET_SIZE |                 \
     WH_R_PATH_FILESTAT_SET_TIMES | WH_R_FD_FILESTAT_GET |                  \
     WH_R_FD_FILESTAT_SET_TIMES | WH_R_FD_SYNC | WH_R_FD_ADVISE |           \
     WH_R_FD_FDSTAT_SET_FLAGS)
#define WH_RIGHTS_FILE                                                     \
    (WH_R_FD_DATASYNC | WH_R_FD_READ | WH_R_FD_SEEK |                       \
     WH_R_FD_FDSTAT_SET_FLAGS | WH_R_FD_SYNC | WH_R_FD_TELL |               \
     WH_R_FD_WRITE | WH_R_FD_ADVISE | WH_R_FD_ALLOCATE |                    \
     WH_R_FD_FILESTAT_GET | WH_R_FD_FILESTAT_SET_SIZE |                     \
     WH_R_FD_FILESTAT_SET_TIMES | WH_R_POLL_FD_READWRITE)
#define WH_RIGHTS_STREAM (WH_RIGHTS_FILE & ~(WH_R_FD_SEEK | WH_R_FD_TELL))
#define WH_RIGHTS_SOCK                                                     \
    (WH_R_FD_READ | WH_R_FD_WRITE | WH_R_FD_FDSTAT_SET_FLAGS |              \
     WH_R_FD_FILESTAT_GET | WH_R_POLL_FD_READWRITE | WH_R_SOCK_SHUTDOWN |   \
     WH_R_SOCK_ACCEPT)
/* Rights that make path_open ask the host for write access. */
#define WH_RIGHTS_WRITE                                                    \
    (WH_R_FD_WRITE | WH_R_FD_DATASYNC | WH_R_FD_ALLOCATE |                  \
     WH_R_FD_FILESTAT_SET_SIZE)

/* ---- State ------------------------------------------------------------- */

/* One cached directory entry for fd_readdir. */
typedef struct wh_wasi_dirent {
    uint64_t ino;
    uint8_t type;
    uint32_t namelen;
    char *name;
} wh_wasi_dirent;

/* One guest descriptor. `host` is -1 for a free slot. */
typedef struct wh_wasi_fd {
    int host;
    uint8_t type;              /* WH_FT_* */
    bool stream;               /* pipe, tty or socket: cannot seek */
    uint16_t flags;            /* fdflags as the guest last set them */
    uint64_t base, inheriting; /* rights */
    char *preopen;             /* guest name of a preopened dir, or NULL */
    bool borrowed;             /* `host` is the embedder's: never closed */
    wh_wasi_dirent *dir;       /* fd_readdir snapshot (cookie order) */
    uint32_t ndir;
    bool dir_valid;
} wh_wasi_fd;

struct wh_wasi {
    char **argv;  int argc;  size_t argv_bytes;
    char **env;   int nenv;  size_t env_bytes;
    wh_wasi_fd *fds;
    uint32_t nfds;             /* slots in fds[] */
    int exit_code;
    struct wh_wasi_binding *bind;   /* one per defined function */
};

/* One call in progress: the state, the guest memory and the caller. A
 * function that exits or traps stores the status in `status`. */
typedef struct wh_wasi_call {
    wh_wasi *w;
    wharf_caller *caller;
    uint8_t *mem;
    size_t mem_len;
    wharf_status status;
} wh_wasi_call;

/* A WASI function: reads its arguments from slots, returns a WASI errno. */
typedef int (*wh_wasi_impl)(wh_wasi_call *cx, const wharf_slot *a);

/* A table row: name, signature ('i' = i32, 'I' = i64) and implementation. */
typedef struct wh_wasi_func {
    const char *name;
    const char *params, *results;
    wh_wasi_impl fn;
} wh_wasi_func;

extern const wh_wasi_func wh_wasi_fd_funcs[];
extern const size_t wh_wasi_fd_nfuncs;
extern const wh_wasi_func wh_wasi_path_funcs[];
extern const size_t wh_wasi_path_nfuncs;
extern const wh_wasi_func wh_wasi_poll_funcs[];
extern const size_t wh_wasi_poll_nfuncs;
extern const wh_wasi_func wh_wasi_sock_funcs[];
extern const size_t wh_wasi_sock_nfuncs;

/* ---- Guest memory ------------------------------------------------------ */

/* True when [ptr, ptr + len) lies inside guest memory. */
static inline bool wh_wasi_ok(const wh_wasi_call *cx, uint32_t ptr, uint64_t len)
{
    return (uint64_t)ptr + len <= cx->mem_len;
}

/* Little-endian loads and stores; callers have checked the range. */
static inline uint16_t wh_wasi_ld16(const wh_wasi_call *cx, uint32_t p)
{ uint16_t v; memcpy(&v, cx->mem + p, 2); return v; }
static inline uint32_t wh_wasi_ld32(const wh_wasi_call *cx, uint32_t p)
{ uint32_t v; memcpy(&v, cx->mem + p, 4); return v; }
static inline uint64_t wh_wasi_ld64(const wh_wasi_call *cx, uint32_t p)
{ uint64_t v; memcpy(&v, cx->mem + p, 8); return v; }
static inline void wh_wasi_st8(wh_wasi_call *cx, uint32_t p, uint8_t v)
{ cx->mem[p] = v; }
static inline void wh_wasi_st16(wh_wasi_call *cx, uint32_t p, uint16_t v)
{ memcpy(cx->mem + p, &v, 2); }
static inline void wh_wasi_st32(wh_wasi_call *cx, uint32_t p, uint32_t v)
{ memcpy(cx->mem + p, &v, 4); }
static inline void wh_wasi_st64(wh_wasi_call *cx, uint32_t p, uint64_t v)
{ memcpy(cx->mem + p, &v, 8); }

/* Argument accessors: i32 arguments live in the low half of a slot. */
#define WH_A32(i) ((uint32_t)a[i])
#define WH_A64(i) ((uint64_t)a[i])

/* Stores a u32/u64 result through a guest pointer: FAULT when out of range. */
int wh_wasi_put32(wh_wasi_call *cx, uint32_t ptr, uint32_t v);
int wh_wasi_put64(wh_wasi_call *cx, uint32_t ptr, uint64_t v);

/* ---- Shared helpers ---------------------------------------------------- */

/* Host errno -> WASI errno. */
int wh_wasi_errno(int host_errno);

/* The descriptor `fd` if open, else NULL. */
wh_wasi_fd *wh_wasi_fd_get(wh_wasi *w, uint32_t fd);
/* Looks up `fd` and checks it holds every right in `need`: BADF when it
 * is not open, NOTCAPABLE when a right is missing. */
int wh_wasi_fd_check(wh_wasi *w, uint32_t fd, uint64_t need, wh_wasi_fd **out);
/* Closes the host fd of `e` (if any) and frees its names and snapshot,
 * leaving a free slot. */
void wh_wasi_fd_release(wh_wasi_fd *e);
/* Adds a host fd (taking ownership) as the lowest free guest fd. On
 * failure the host fd is closed and a WASI errno returned. */
int wh_wasi_fd_add(wh_wasi *w, int host, uint64_t base, uint64_t inheriting,
                   uint16_t flags, uint32_t *out);
/* Fills the type and stream flag of `e` from its host fd; returns the
 * rights that kind of descriptor can hold. */
uint64_t wh_wasi_fd_classify(wh_wasi_fd *e);
/* Writes a 64-byte filestat for `st` (a struct stat) at guest `ptr`. */
struct stat;
int wh_wasi_put_filestat(wh_wasi_call *cx, uint32_t ptr, const struct stat *st);
/* Converts fst_flags and times to a timespec[2] for utimensat/futimens. */
struct timespec;
int wh_wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst,
                  struct timespec ts[2]);
/* Collects guest iovecs (8 bytes each) into `out` (room for
 * WH_WASI_IOV_MAX). FAULT when any is out of bounds. Past IOV_MAX entries
 * are ignored and the total is clamped to fit a u32 result: a short
 * transfer, which POSIX allows. */
#define WH_WASI_IOV_MAX 1024
struct iovec;
int wh_wasi_iovecs(wh_wasi_call *cx, uint32_t iovs, uint32_t n,
                   struct iovec *out, int *count);

#endif /* WH_WASI_INT_H */
