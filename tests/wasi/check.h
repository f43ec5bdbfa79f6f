/* check.h: what the WASI guest test programs share: test.h's harness,
 * checks of raw __wasi_* calls, and finding a preopened directory.
 *
 *   CHECK(cond, "fmt", ...)   one assertion; a failure prints file:line
 *   ERRNO(call, want)         a raw __wasi_* call must return `want`
 *   return test_done();       prints "N passed, M failed" on stdout
 *
 * Guests are built with clang --target=wasm32-wasi; tests/cli/wasi.sh
 * runs them under `wharf run` and adds up the summary lines. */
#ifndef WH_WASI_CHECK_H
#define WH_WASI_CHECK_H

#include <stdint.h>
#include <string.h>
#include <wasi/api.h>

#include "../test.h"

#define ERRNO(call, want)                                                  \
    do {                                                                   \
        int got_ = (int)(call);                                            \
        CHECK(got_ == (int)(want), "%s returned %d, want %d", #call, got_, \
              (int)(want));                                                \
    } while (0)

/* The descriptor of the preopened directory the guest knows as `name`, or
 * -1. Preopens take the numbers from 3 up, without gaps. */
static inline int find_preopen(const char *name)
{
    for (int fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        char buf[256];
        if (__wasi_fd_prestat_get(fd, &ps) != 0)
            break;
        if (ps.u.dir.pr_name_len < sizeof buf &&
            __wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, ps.u.dir.pr_name_len) == 0 &&
            strlen(name) == ps.u.dir.pr_name_len &&
            !memcmp(buf, name, ps.u.dir.pr_name_len))
            return fd;
    }
    return -1;
}

#endif
