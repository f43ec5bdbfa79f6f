/* guest.c: a small WASI program for the CLI tests, built with
 * clang --target=wasm32-wasi. Its first argument picks what it does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* For `wharf run --invoke twice` on a WASI command module. */
__attribute__((export_name("twice"))) int twice(int x)
{
    return 2 * x;
}

static int copy(FILE *f)
{
    int c;
    while ((c = getc(f)) != EOF)
        putchar(c);
    return ferror(f) ? 1 : 0;
}

static int cat(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    int rc = copy(f);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(cmd, "args")) {
        for (int i = 0; i < argc; i++)
            puts(argv[i]);
        return 0;
    }
    if (!strcmp(cmd, "env")) {
        if (getenv(arg))
            printf("%s=%s\n", arg, getenv(arg));
        else
            printf("%s is unset\n", arg);
        return 0;
    }
    if (!strcmp(cmd, "cat"))
        return cat(arg);
    if (!strcmp(cmd, "stdin"))
        return copy(stdin);
    if (!strcmp(cmd, "sleep")) {   /* blocks in poll_oneoff */
        sleep(atoi(argc > 2 ? argv[2] : "1"));
        return 0;
    }
    if (!strcmp(cmd, "exit"))
        exit(atoi(arg));
    if (!strcmp(cmd, "grow")) {
        /* Prints memory.grow's result: the old size in pages, or -1. */
        printf("%d\n", (int)__builtin_wasm_memory_grow(0, (size_t)atoi(arg)));
        return 0;
    }
    if (!strcmp(cmd, "trap"))
        __builtin_trap();
    fprintf(stderr, "guest: unknown command '%s'\n", cmd);
    return 100;
}
