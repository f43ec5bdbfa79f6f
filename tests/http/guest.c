/* guest.c: the WAGI guest of tests/cli/serve.sh. What it does depends on
 * the request's PATH_INFO (the part after its route's prefix):
 *
 *   /env[/...]  prints argv, then every environment variable, one a line
 *   /echo       copies stdin (the request body) to the response
 *   /status     Status, Location and extra headers from the query string
 *   /state      counts calls in a global: always 1 in a fresh instance
 *   /grow       grows memory by 8 pages, checks them and the first data
 *               page for its mark, then dirties both: "grow clean" in every
 *               fresh instance
 *   /trap       traps (unreachable)
 *   /loop       runs forever (until the service's timeout or fuel)
 *   /spin?ms=N  busy-waits N milliseconds, then answers
 *   /hog        allocates until malloc fails, then aborts (a trap)
 *   /big?kb=N   writes N KiB of body
 *   /exit       exits with code 3 after a valid response
 *   /stderr     writes a line to stderr, then answers
 *   /bad        prints a malformed CGI response
 *   /nothing    prints nothing
 *   /read       prints the file /data/hello.txt (a preopened directory) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

static long param(const char *name, long dflt)
{
    const char *q = getenv("QUERY_STRING");
    size_t n = strlen(name);
    for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == '=')
            return atol(p + n + 1);
    return dflt;
}

static void text(void)
{
    printf("Content-Type: text/plain\n\n");
}

static int env(int argc, char **argv)
{
    text();
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("%s\n", *e);
    return 0;
}

static int echo(void)
{
    char buf[4096];
    size_t n;
    printf("Content-Type: application/octet-stream\n\n");
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        fwrite(buf, 1, n, stdout);
    return 0;
}

static int status(void)
{
    long code = param("code", 200);
    if (param("redirect", 0))
        printf("Location: /elsewhere\n");
    else
        printf("Status: %ld Custom Reason\nContent-Type: text/plain\n", code);
    printf("X-Guest: yes\nConnection: close\n\nstatus %ld\n", code);
    return 0;
}

static int counter;

static int spin(long ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    text();
    printf("spun %ld ms\n", ms);
    return 0;
}

static int hog(void)
{
    for (;;) {
        volatile char *p = malloc(1 << 20);
        if (!p)
            abort();
        p[0] = 1;
    }
}

static int big(long kb)
{
    static char chunk[1024];
    memset(chunk, 'x', sizeof chunk);
    text();
    for (long i = 0; i < kb; i++)
        fwrite(chunk, 1, sizeof chunk, stdout);
    return 0;
}

static char mark[4096];

static int grow(void)
{
    size_t pages = 8, old = __builtin_wasm_memory_grow(0, pages);
    if (old == (size_t)-1) {
        text();
        printf("grow failed\n");
        return 0;
    }
    unsigned char *p = (unsigned char *)(old * 65536);
    size_t dirty = mark[0] != 0;
    for (size_t i = 0; i < pages * 65536; i++)
        dirty += p[i] != 0;
    memset(p, 0xab, pages * 65536);
    memset(mark, 0xab, sizeof mark);
    text();
    printf("grow %s\n", dirty ? "dirty" : "clean");
    return 0;
}

static int cat(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (!f) {
        printf("Status: 404\nContent-Type: text/plain\n\nno %s\n", path);
        return 0;
    }
    text();
    while (fgets(line, sizeof line, f))
        fputs(line, stdout);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    const char *p = getenv("PATH_INFO");
    p = p ? p : "";
    if (!strncmp(p, "/env", 4) && (p[4] == '\0' || p[4] == '/')) return env(argc, argv);
    if (!strcmp(p, "/echo")) return echo();
    if (!strcmp(p, "/status")) return status();
    if (!strcmp(p, "/state")) { text(); printf("calls %d\n", ++counter); return 0; }
    if (!strcmp(p, "/trap")) __builtin_trap();
    if (!strcmp(p, "/loop")) for (volatile int i = 0;; i++) ;
    if (!strcmp(p, "/spin")) return spin(param("ms", 100));
    if (!strcmp(p, "/hog")) return hog();
    if (!strcmp(p, "/grow")) return grow();
    if (!strcmp(p, "/big")) return big(param("kb", 1));
    if (!strcmp(p, "/exit")) { text(); printf("bye\n"); return 3; }
    if (!strcmp(p, "/stderr")) { fprintf(stderr, "guest says \"hi\"\n"); text(); printf("ok\n"); return 0; }
    if (!strcmp(p, "/bad")) { printf("this is not a header\n\nbody\n"); return 0; }
    if (!strcmp(p, "/nothing")) return 0;
    if (!strcmp(p, "/read")) return cat("/data/hello.txt");
    text();
    printf("path %s\n", p);
    return 0;
}
