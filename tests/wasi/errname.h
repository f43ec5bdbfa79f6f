/* errname.h: errno values by name, so a test program prints the same text
 * when built natively (glibc) and for wasm32-wasi (wasi-libc), whose
 * strerror() strings differ. */
#ifndef WH_WASI_ERRNAME_H
#define WH_WASI_ERRNAME_H

#include <errno.h>

static inline const char *errname(int e)
{
    switch (e) {
    case 0: return "ok";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EPERM: return "EPERM";
    case ESPIPE: return "ESPIPE";
    case EXDEV: return "EXDEV";
    default: return "E?";
    }
}

#endif
