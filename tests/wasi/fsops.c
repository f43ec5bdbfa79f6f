/* fsops.c: everyday POSIX file operations in the current directory. Built
 * natively and for wasm32-wasi; tests/cli/wasi.sh runs both (the wasm one
 * with the directory preopened as ".") and compares their output. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

#define SHOW(what, call) printf("%-28s %s\n", what, errname((call) < 0 ? errno : 0))

static void write_file(const char *path, int lines)
{
    FILE *f = fopen(path, "w");
    for (int i = 0; i < lines; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);
}

static void show_stat(const char *path)
{
    struct stat st, lst;
    if (stat(path, &st) != 0 || lstat(path, &lst) != 0) {
        printf("stat %-23s %s\n", path, errname(errno));
        return;
    }
    /* Directory sizes depend on the file system: only files show one. */
    printf("stat %-23s size=%lld reg=%d dir=%d lnk=%d nlink=%d\n", path,
           S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL,
           S_ISREG(st.st_mode), S_ISDIR(st.st_mode), S_ISLNK(lst.st_mode),
           S_ISDIR(st.st_mode) ? 0 : (int)st.st_nlink);
}

static void reads(void)
{
    char buf[64] = { 0 };
    int fd = open("d/f", O_RDONLY);
    printf("seek set   %lld\n", (long long)lseek(fd, 10, SEEK_SET));
    printf("read       %zd '%.5s'\n", read(fd, buf, 5), buf);
    printf("seek end   %lld\n", (long long)lseek(fd, -4, SEEK_END));
    memset(buf, 0, sizeof buf);
    printf("read       %zd '%s'\n", read(fd, buf, sizeof buf - 1), buf);
    printf("pread      %zd '%.6s'\n", pread(fd, buf, 6, 7), buf);
    printf("tell       %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    SHOW("write to read-only fd", write(fd, "x", 1));
    close(fd);
    FILE *f = fopen("d/f", "r");
    fseek(f, 0, SEEK_END);
    printf("ftell      %ld\n", ftell(f));
    rewind(f);
    printf("fgets      %s", fgets(buf, sizeof buf, f));
    fclose(f);
}

static void listing(const char *dir)
{
    char names[64][64];
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) && n < 64;)
        snprintf(names[n++], 64, "%.63s", e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    printf("ls %s:", dir);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static void changes(void)
{
    int fd = open("d/f", O_RDWR);
    SHOW("ftruncate 10", ftruncate(fd, 10));
    SHOW("fsync", fsync(fd));
    SHOW("fdatasync", fdatasync(fd));
    SHOW("posix_fadvise", -posix_fadvise(fd, 0, 10, POSIX_FADV_SEQUENTIAL));
    SHOW("posix_fallocate 100", -posix_fallocate(fd, 0, 100));
    close(fd);
    show_stat("d/f");
    struct timespec ts[2] = { { 1000000000, 5 }, { 1234567890, 123456789 } };
    SHOW("utimensat", utimensat(AT_FDCWD, "d/f", ts, 0));
    struct stat st;
    stat("d/f", &st);
    printf("mtime      %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    fd = open("d/app", O_WRONLY | O_CREAT | O_APPEND, 0644);
    printf("append fl  %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    write(fd, "one\n", 4);
    lseek(fd, 0, SEEK_SET);
    write(fd, "two\n", 4);
    close(fd);
    show_stat("d/app");
}

static void names(void)
{
    SHOW("rename f g", rename("d/f", "d/g"));
    SHOW("access f", access("d/f", F_OK));
    SHOW("link g h", link("d/g", "d/h"));
    show_stat("d/g");
    SHOW("unlink h", unlink("d/h"));
    SHOW("symlink s -> g", symlink("g", "d/s"));
    char buf[32] = { 0 };
    printf("readlink   %zd '%s'\n", readlink("d/s", buf, sizeof buf), buf);
    show_stat("d/s");
    SHOW("mkdir d/sub", mkdir("d/sub", 0755));
    listing("d");
    SHOW("rmdir d (not empty)", rmdir("d"));
    SHOW("rmdir d/g (a file)", rmdir("d/g"));
    SHOW("unlink d/sub (a dir)", unlink("d/sub"));
    SHOW("open nope", open("nope", O_RDONLY));
    SHOW("open d2/x creat", open("d2/x", O_CREAT | O_WRONLY, 0644));
    SHOW("open dir for writing", open("d", O_WRONLY));
    SHOW("mkdir d/g/x", mkdir("d/g/x", 0755));
    SHOW("open excl existing", open("d/g", O_CREAT | O_EXCL | O_WRONLY, 0644));
    SHOW("open d/g/ (slash)", open("d/g/", O_RDONLY));
    SHOW("unlink d/g", unlink("d/g"));
    SHOW("unlink d/s", unlink("d/s"));
    SHOW("unlink d/app", unlink("d/app"));
    SHOW("rmdir d/sub/", rmdir("d/sub/"));
    SHOW("rmdir d", rmdir("d"));
    listing(".");
}

int main(void)
{
    SHOW("mkdir d", mkdir("d", 0755));
    SHOW("mkdir d again", mkdir("d", 0755));
    write_file("d/f", 100);
    show_stat("d/f");
    show_stat("d");
    reads();
    changes();
    names();
    return 0;
}
