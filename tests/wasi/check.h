/* check.h: the assertion helpers shared by the WASI guest test programs.
 *
 *   CHECK(cond, "fmt", ...)   one assertion; a failure prints file:line
 *   ERRNO(call, want)         a raw __wasi_* call must return `want`
 *   return check_done();      prints "N passed, M failed" on stdout
 *
 * Guests are built with clang --target=wasm32-wasi; tests/cli/wasi.sh
 * runs them under `wharf run` and adds up the summary lines. */
#ifndef WH_WASI_CHECK_H
#define WH_WASI_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            check_passed++;                                                \
        } else {                                                           \
            check_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define ERRNO(call, want)                                                  \
    do {                                                                   \
        int got_ = (int)(call);                                            \
        CHECK(got_ == (int)(want), "%s returned %d, want %d", #call, got_, \
              (int)(want));                                                \
    } while (0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    fflush(stdout);
    return check_failed ? 1 : 0;
}

#endif
