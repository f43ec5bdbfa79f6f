/* io.c: stdio under WASI. Built natively and for wasm32-wasi; the outputs
 * are compared by tests/cli/wasi.sh.
 *   io cat          copies stdin to stdout
 *   io big MB       writes MB MiB to stdout in one write() call
 *   io stdio        reports what each of fds 0-2 is: seekable, a tty
 *   io args A...    prints its arguments and the variables WHARF_*
 *   io exit N       exits with status N
 *   io hold         opens a file and a directory, then reads stdin to EOF
 *                   (the script inspects the host process meanwhile) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errname.h"

extern char **environ;

static int cat(void)
{
    static char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0)
                return 1;
            off += w;
        }
    }
    return n < 0;
}

static int big(size_t mb)
{
    size_t len = mb << 20;
    char *buf = malloc(len);
    if (!buf)
        return 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + i % 26);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(1, buf + off, len - off);
        if (w <= 0)
            return 1;
        off += (size_t)w;
    }
    free(buf);
    return 0;
}

static int stdio(void)
{
    for (int fd = 0; fd < 3; fd++) {
        off_t r = lseek(fd, 0, SEEK_CUR);
        const char *seek = r < 0 ? errname(errno) : "ok";
        fprintf(stderr, "fd %d: seek %s, tty %d\n", fd, seek, isatty(fd));
    }
    return 0;
}

static int args(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        printf("arg %d [%s]\n", i - 2, argv[i]);
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "WHARF_", 6))
            printf("env [%s]\n", *e);
    return 0;
}

static int hold(void)
{
    char buf[256];
    int fd = open("hold.txt", O_CREAT | O_RDWR, 0644);
    DIR *d = opendir(".");
    readdir(d);
    while (read(0, buf, sizeof buf) > 0)
        ;
    closedir(d);
    return close(fd) != 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "cat"))
        return cat();
    if (!strcmp(argv[1], "big") && argc > 2)
        return big((size_t)atoi(argv[2]));
    if (!strcmp(argv[1], "stdio"))
        return stdio();
    if (!strcmp(argv[1], "args"))
        return args(argc, argv);
    if (!strcmp(argv[1], "hold"))
        return hold();
    if (!strcmp(argv[1], "exit") && argc > 2)
        exit(atoi(argv[2]));
    return 2;
}
