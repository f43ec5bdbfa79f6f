/* versioned.c: the WAGI guest of tests/cli/admin.sh whose answer says
 * which version of its service ran it: "version $VERSION" (the service's
 * environment). With ?ms=N it first computes for N milliseconds, so that
 * a test can keep a request in flight across a deploy or a shutdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long wait_ms(void)
{
    const char *q = getenv("QUERY_STRING");
    const char *p = q ? strstr(q, "ms=") : NULL;
    return p ? atol(p + 3) : 0;
}

int main(void)
{
    struct timespec t0, t;
    long ms = wait_ms();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    const char *v = getenv("VERSION");
    printf("Content-Type: text/plain\n\nversion %s\n", v ? v : "none");
    return 0;
}
