/* stream.c: line-by-line processing of bodies of any size, as streaming
 * stages of a `wharf serve` pipeline (examples/wharf.yaml, docs/config.md
 * "Streaming"). The host calls a streaming stage once per chunk of the
 * request body, on one instance, then once more with an empty input when
 * the body has ended; the outputs of all the calls, joined, are the
 * stage's output. So the plugin's memory holds one chunk at a time, never
 * the body. Exports:
 *
 *   upper  the chunk, upper-cased (ASCII): needs no state;
 *   grep   the lines of the chunk that contain config `pattern` (with
 *          `stream: lines`, a chunk holds whole lines only);
 *   count  nothing per chunk; at the end, "lines L words W bytes B\n".
 *          Its counts live in the instance between the calls, and a word
 *          split between two chunks (`stream: bytes`) is counted once.
 *
 * Built as a WASI reactor with the C SDK (sdk/c/wharf_pdk.h). */
#define _GNU_SOURCE   /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wharf_pdk.h"

/* The current chunk, in the plugin's memory; grown to the largest chunk. */
static uint8_t *chunk;
static uint64_t chunk_cap;

/* Reads the input into `chunk`; returns its length, or -1 (error set)
 * when memory runs out. */
static int64_t read_chunk(void)
{
    uint64_t n = wharf_input_length();
    if (n > chunk_cap) {
        uint8_t *p = realloc(chunk, n);
        if (!p)
            return wharf_error_set("out of memory for a chunk"), -1;
        chunk = p;
        chunk_cap = n;
    }
    wharf_input(chunk, n);
    return (int64_t)n;
}

WHARF_PLUGIN_FN(upper)
{
    int64_t n = read_chunk();
    if (n < 0)
        return 1;
    for (int64_t i = 0; i < n; i++)
        if (chunk[i] >= 'a' && chunk[i] <= 'z')
            chunk[i] = (uint8_t)(chunk[i] - 'a' + 'A');
    wharf_output(chunk, (uint64_t)n);
    return 0;
}

WHARF_PLUGIN_FN(grep)
{
    char pat[256];
    int64_t plen = wharf_config_get("pattern", pat, sizeof pat);
    if (plen <= 0 || plen >= (int64_t)sizeof pat)
        return wharf_error_set("set config 'pattern' (1 to 255 bytes)");
    int64_t n = read_chunk();
    if (n < 0)
        return 1;
    /* Matching lines are moved to the front of the chunk, in place. */
    size_t kept = 0;
    for (size_t start = 0; start < (size_t)n;) {
        uint8_t *nl = memchr(chunk + start, '\n', (size_t)n - start);
        size_t end = nl ? (size_t)(nl - chunk) + 1 : (size_t)n;
        if (memmem(chunk + start, end - start, pat, (size_t)plen)) {
            memmove(chunk + kept, chunk + start, end - start);
            kept += end - start;
        }
        start = end;
    }
    wharf_output(chunk, kept);
    return 0;
}

/* count's totals, kept across the calls of one stream. */
static uint64_t lines, words, bytes;
static int in_word;

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

WHARF_PLUGIN_FN(count)
{
    int64_t n = read_chunk();
    if (n < 0)
        return 1;
    if (n == 0) {   /* the end of the stream: report */
        char out[96];
        int k = snprintf(out, sizeof out, "lines %llu words %llu bytes %llu\n",
                         (unsigned long long)lines, (unsigned long long)words,
                         (unsigned long long)bytes);
        wharf_output(out, (uint64_t)k);
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        int space = is_space(chunk[i]);
        lines += chunk[i] == '\n';
        words += !space && !in_word;
        in_word = !space;
    }
    bytes += (uint64_t)n;
    return 0;
}
