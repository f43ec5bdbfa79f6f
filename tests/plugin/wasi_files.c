/* wasi_files.c: test plugin built against wasi-libc as a reactor: reads
 * the file named by its input (through a preopened directory) and outputs
 * its contents, using stdio and snprintf from libc. */
#include <stdio.h>
#include <string.h>

#include "wharf_pdk.h"

WHARF_PLUGIN_FN(read_file)
{
    char path[256], data[1024];
    if (wharf_input_str(path, sizeof path) < 0)
        return wharf_error_set("path too long");
    FILE *f = fopen(path, "r");
    if (!f) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot open %s", path);
        return wharf_error_set(msg);
    }
    size_t got = fread(data, 1, sizeof data, f);
    fclose(f);
    wharf_output(data, got);
    return 0;
}

/* printf goes to the host's stderr, never into the output. */
WHARF_PLUGIN_FN(greet)
{
    char out[128];
    char name[64];
    uint64_t n = wharf_input(name, sizeof name - 1);
    name[n < sizeof name ? n : sizeof name - 1] = '\0';
    printf("stdout line from the plugin\n");
    fflush(stdout);
    int k = snprintf(out, sizeof out, "Hello, %s!", name);
    wharf_output(out, (uint64_t)k);
    return 0;
}
