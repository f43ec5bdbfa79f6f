/* test.h: a tiny test harness shared by the C test programs: the unit
 * tests and, through tests/wasi/check.h, the WASI guests.
 *
 *   CHECK(cond, "fmt", ...)   one assertion; prints a failure with file:line
 *   return test_done();       prints "N passed, M failed", exits 1 on failure
 *
 * Each test program runs in its own process (tests/run.sh), so a crash
 * fails only that program. */
#ifndef WH_TEST_H
#define WH_TEST_H

#include <stdio.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            test_passed++;                                                \
        } else {                                                          \
            test_failed++;                                                \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

static inline int test_done(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    fflush(stdout);
    return test_failed ? 1 : 0;
}

#endif
