/* dirlist.c: creates N files with long names in a fresh directory, lists
 * it with readdir (several fd_readdir calls continued by cookie under
 * WASI), checks every name came back once, removes everything. Built
 * natively and for wasm32-wasi; the outputs are compared. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAD "-a-rather-long-name-so-the-listing-spans-many-readdir-buffers"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 600;
    char path[256];
    char *seen = calloc((size_t)n, 1);
    mkdir("big", 0755);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "big/%05d" PAD, i);
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    DIR *d = opendir("big");
    int total = 0, dots = 0, dup = 0;
    for (struct dirent *e; (e = readdir(d));) {
        total++;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            dots++;
            continue;
        }
        int i = atoi(e->d_name);
        if (i >= 0 && i < n)
            dup += seen[i]++ != 0;
    }
    closedir(d);
    int missing = 0;
    for (int i = 0; i < n; i++) {
        missing += !seen[i];
        snprintf(path, sizeof path, "big/%05d" PAD, i);
        unlink(path);
    }
    printf("entries %d dots %d missing %d duplicates %d rmdir %d\n", total, dots,
           missing, dup, rmdir("big"));
    return 0;
}
