/* stubs.c: libc calls that wasi-libc (2022) leaves out and the real-world
 * programs reference. WASI has no processes and no temporary directory, so
 * system() and tmpfile() fail the way POSIX lets them fail. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* No command processor: system(NULL) says so, any command fails. */
int system(const char *cmd)
{
    if (!cmd)
        return 0;
    errno = ENOSYS;
    return -1;
}

FILE *tmpfile(void)
{
    errno = ENOTSUP;
    return NULL;
}

/* Declared by wasi-libc but not defined: replaces the template's trailing
 * XXXXXX with random letters until an exclusive create succeeds. */
int mkstemp(char *tmpl)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = strlen(tmpl);
    if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX")) {
        errno = EINVAL;
        return -1;
    }
    for (int tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        if (getentropy(r, sizeof r))
            return -1;
        for (int i = 0; i < 6; i++)
            tmpl[n - 6 + i] = set[r[i] % (sizeof set - 1)];
        int fd = open(tmpl, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}
