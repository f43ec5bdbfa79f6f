/* stubs.c: libc calls that wasi-libc (2022) leaves out and the real-world
 * programs reference. WASI has no processes and no temporary directory, so
 * these fail the way POSIX lets them fail. */
#include <errno.h>
#include <stdio.h>

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
