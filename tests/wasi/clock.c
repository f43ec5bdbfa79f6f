/* clock.c: clocks move forward and sleeps last as long as asked
 * (nanosleep and poll() are poll_oneoff under WASI).
 * usage: (sleep 1; echo hi) | clock.wasm HOST_EPOCH_SECONDS */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int64_t ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static volatile uint64_t sink;

int main(int argc, char **argv)
{
    struct timespec res;
    int64_t m0, m1;
    /* stdin is a pipe that stays silent for a while: poll times out. */
    struct pollfd p = { 0, POLLIN, 0 };
    m0 = ns(CLOCK_MONOTONIC);
    int r = poll(&p, 1, 50);
    m1 = ns(CLOCK_MONOTONIC);
    CHECK(r == 0 && m1 - m0 >= 50000000 && m1 - m0 < 500000000,
          "poll timeout: %d after %lld ns", r, (long long)(m1 - m0));
    r = poll(&p, 1, 5000);
    CHECK(r == 1 && (p.revents & POLLIN), "poll sees data: %d %x", r, p.revents);
    int64_t host = argc > 1 ? atoll(argv[1]) : 0;
    int64_t now = ns(CLOCK_REALTIME) / 1000000000;
    CHECK(now >= host - 5 && now <= host + 60, "realtime %lld vs host %lld",
          (long long)now, (long long)host);
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_nsec > 0, "res");
    m0 = ns(CLOCK_MONOTONIC);
    int64_t c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t t0 = ns(CLOCK_THREAD_CPUTIME_ID);
    for (uint64_t i = 0; i < 20000000; i++)
        sink += i * i;
    m1 = ns(CLOCK_MONOTONIC);
    int64_t c1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    CHECK(m1 > m0, "monotonic moves forward");
    CHECK(c1 > c0, "process cpu time moves forward");
    CHECK(ns(CLOCK_THREAD_CPUTIME_ID) > t0, "thread cpu time moves forward");
    struct timespec req = { 0, 100000000 };
    m0 = ns(CLOCK_MONOTONIC);
    CHECK(nanosleep(&req, NULL) == 0, "nanosleep");
    m1 = ns(CLOCK_MONOTONIC);
    CHECK(m1 - m0 >= 100000000 && m1 - m0 < 600000000, "slept %lld ns",
          (long long)(m1 - m0));
    m0 = ns(CLOCK_MONOTONIC);
    usleep(30000);
    CHECK(ns(CLOCK_MONOTONIC) - m0 >= 30000000, "usleep");
    return test_done();
}
