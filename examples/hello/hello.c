/* hello.c: the smallest wharf guest, a WASI command.
 * Build: clang --target=wasm32-wasi -O2 -o hello.wasm hello.c
 * Run:   wharf run hello.wasm world */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("Hello, %s!\n", argc > 1 ? argv[1] : "wharf");
    return 0;
}
