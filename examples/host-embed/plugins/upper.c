/* upper.c: a plugin for the host-embed example: uppercases its input. */
#include "wharf_pdk.h"

WHARF_PLUGIN_FN(describe)
{
    wharf_output_str("uppercases text");
    return 0;
}

WHARF_PLUGIN_FN(process)
{
    static char buf[4096];
    uint64_t n = wharf_input(buf, sizeof buf);
    if (n > sizeof buf)
        return wharf_error_set("input longer than 4096 bytes");
    for (uint64_t i = 0; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
    wharf_output(buf, n);
    return 0;
}
