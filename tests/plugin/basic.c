/* basic.c: test plugin for the everyday ABI paths: input to output
 * (echo, upper, count_vowels), an empty function for the benchmark, and
 * a function that returns without setting any output. */
#include "wharf_pdk.h"

#define BUF 4096

static uint8_t buf[BUF];

/* The input, or an error when it does not fit the static buffer. */
static bool read_input(uint64_t *n)
{
    *n = wharf_input(buf, BUF);
    return *n <= BUF;
}

WHARF_PLUGIN_FN(echo)
{
    uint64_t n;
    if (!read_input(&n))
        return wharf_error_set("input too large");
    wharf_output(buf, n);
    return 0;
}

/* Zero-copy echo: hands the input block itself back as the output. */
WHARF_PLUGIN_FN(echo_handle)
{
    wharf_env_output_set(wharf_env_input_offset(), wharf_env_input_length());
    return 0;
}

WHARF_PLUGIN_FN(upper)
{
    uint64_t n;
    if (!read_input(&n))
        return wharf_error_set("input too large");
    for (uint64_t i = 0; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (uint8_t)(buf[i] - 'a' + 'A');
    wharf_output(buf, n);
    return 0;
}

static int is_vowel(uint8_t c)
{
    switch (c | 0x20) {
    case 'a': case 'e': case 'i': case 'o': case 'u':
        return 1;
    default:
        return 0;
    }
}

/* Reads the input byte by byte through input_load_u8, as the simplest
 * PDKs do, so any input length works. */
WHARF_PLUGIN_FN(count_vowels)
{
    uint64_t n = wharf_input_length(), count = 0;
    for (uint64_t i = 0; i < n; i++)
        count += (uint64_t)is_vowel((uint8_t)wharf_env_input_load_u8(i));
    char out[40] = "{\"count\":";
    int k = 9;
    k += wharf_fmt_u64(out + k, count);
    out[k++] = '}';
    wharf_output(out, (uint64_t)k);
    return 0;
}

WHARF_PLUGIN_FN(noop)
{
    return 0;
}

/* The input's length in decimal, computed by the host-side input length
 * and by length(input_offset()): they must agree. */
WHARF_PLUGIN_FN(input_len)
{
    uint64_t a = wharf_input_length(), b = wharf_env_length(wharf_env_input_offset());
    if (a != b)
        return wharf_error_set("input_length and length(input_offset) differ");
    char out[20];
    wharf_output(out, (uint64_t)wharf_fmt_u64(out, a));
    return 0;
}
