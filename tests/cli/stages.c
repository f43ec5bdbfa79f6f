/* stages.c: pipeline stages for tests/cli/pipeline.sh, one export per
 * behaviour a stage can have. Freestanding on the C SDK (no libc):
 *
 *   tag     the input followed by "|" and config `tag`: chained, the
 *           output shows which stages ran, in which order;
 *   reject  fails with error_set("no thanks");
 *   trap    traps (unreachable);
 *   spin    loops until the host stops it (timeout or fuel);
 *   busy    burns a few million instructions, then echoes its input;
 *   twice   the input, twice over;
 *   chunks  streaming: "[N]" for a chunk of N bytes, "end\n" for the
 *           empty call that ends the stream. */
#include "wharf_pdk.h"

static uint8_t buf[1 << 16];

/* The input into buf; the whole length (the tests stay under 64 KiB). */
static uint64_t input(void)
{
    return wharf_input(buf, sizeof buf);
}

WHARF_PLUGIN_FN(tag)
{
    char t[64];
    uint64_t n = input();
    int64_t k = wharf_config_get("tag", t, sizeof t);
    if (n > sizeof buf - 1 - sizeof t || k < 0 || k > (int64_t)sizeof t)
        return wharf_error_set("tag: input too long or no config 'tag'");
    buf[n] = '|';
    __builtin_memcpy(buf + n + 1, t, (size_t)k);
    wharf_output(buf, n + 1 + (uint64_t)k);
    return 0;
}

WHARF_PLUGIN_FN(reject)
{
    return wharf_error_set("no thanks");
}

WHARF_PLUGIN_FN(trap)
{
    __builtin_trap();
}

WHARF_PLUGIN_FN(spin)
{
    for (volatile int i = 0;; i++)
        ;
}

WHARF_PLUGIN_FN(busy)
{
    uint64_t n = input();
    for (volatile int i = 0; i < 2000000; i++)
        ;
    wharf_output(buf, n);
    return 0;
}

WHARF_PLUGIN_FN(twice)
{
    uint64_t n = input();
    wharf_handle h = wharf_env_alloc(2 * n);
    wharf_store(h, buf, n);
    wharf_store(h + n, buf, n);
    wharf_env_output_set(h, 2 * n);
    return 0;
}

WHARF_PLUGIN_FN(chunks)
{
    char out[24];
    uint64_t n = wharf_input_length();
    int k = 0;
    if (n == 0) {
        __builtin_memcpy(out, "end\n", 4);
        k = 4;
    } else {
        out[k++] = '[';
        k += wharf_fmt_u64(out + k, n);
        out[k++] = ']';
    }
    wharf_output(out, (uint64_t)k);
    return 0;
}
