/* greet.c: a plugin for the host-embed example: greets its input with
 * the "greeting" from its config and the name of its host, which it gets
 * from a host function the embedder provides. */
#include "wharf_pdk.h"

/* Provided by host-embed: returns a handle holding the host's name. */
__attribute__((import_module("extism:host/user"), import_name("host_name")))
wharf_handle host_name(void);

WHARF_PLUGIN_FN(describe)
{
    wharf_output_str("greets you, using config and a host function");
    return 0;
}

WHARF_PLUGIN_FN(process)
{
    char out[512];
    uint64_t k = 0;
    int64_t g = wharf_config_get("greeting", out, 64);
    if (g < 0 || g > 64)
        return wharf_error_set("config 'greeting' is missing or too long");
    k = (uint64_t)g;
    out[k++] = ',';
    out[k++] = ' ';
    uint64_t n = wharf_input(out + k, 256);
    if (n > 256)
        return wharf_error_set("name longer than 256 bytes");
    k += n;
    const char *from = "! (from ";
    while (*from)
        out[k++] = *from++;
    wharf_handle h = host_name();
    uint64_t len = wharf_read(h, out + k, 64);
    k += len < 64 ? len : 64;
    out[k++] = ')';
    wharf_output(out, k);
    return 0;
}
