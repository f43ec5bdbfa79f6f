/* wordcount.c: a plugin for the host-embed example: counts the words of
 * its input, reading it one byte at a time (so any length works), and
 * keeps a running total across calls in a variable. */
#include "wharf_pdk.h"

WHARF_PLUGIN_FN(describe)
{
    wharf_output_str("counts words (and keeps a running total)");
    return 0;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

WHARF_PLUGIN_FN(process)
{
    uint64_t n = wharf_input_length(), words = 0, total = 0;
    int in_word = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t c = wharf_env_input_load_u8(i);
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        words += !space && !in_word;
        in_word = !space;
    }
    if (wharf_var_get("total", &total, sizeof total) != (int64_t)sizeof total)
        total = 0;
    total += words;
    wharf_var_set("total", &total, sizeof total);
    char out[64], *p = out + wharf_fmt_u64(out, words);
    p = put_str(p, " words, ");
    p += wharf_fmt_u64(p, total);
    p = put_str(p, " in total");
    wharf_output(out, (uint64_t)(p - out));
    return 0;
}
