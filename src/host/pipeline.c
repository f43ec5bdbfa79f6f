/* pipeline.c: the pipeline executor. A request runs through its service's
 * stages in order. Each stage is a plugin function (the ABI of wharf.h,
 * without the HTTP envelope of the function executor): the request body
 * is the first stage's input, each stage's output is the next one's
 * input, and the last output is the response body, sent with the
 * service's content_type. A streaming stage is called once per chunk of
 * its input, on one instance, then once more with an empty input to say
 * the stream has ended; the outputs of those calls are joined.
 *
 * Copies: a stage's output stays where the stage left it (its call
 * memory, or the host buffer that joined a streaming stage's outputs)
 * until the next stage has taken it; the ABI copies it into that stage's
 * call memory. Only a streaming stage's outputs are copied by this file,
 * once each, to join them. So a stage's memory need hold only its own
 * input (one chunk, when streaming) and output, whatever the body's size.
 *
 * Instances are fresh for every request (state never crosses requests),
 * and each lives until the next stage has taken its output. The first
 * stage that fails ends the request with an error response that names it
 * (docs/config.md, "Pipelines"). Every stage counts in the pipeline
 * service's stats (service.c's adopt_stages). */
#define _GNU_SOURCE   /* memrchr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pluginInt.h"    /* p->inst, for the usage stats */
#include "serviceInt.h"

/* A growable host buffer: a streaming stage's outputs, joined. */
typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf;

/* One request's way through the stages. */
typedef struct run {
    wh_host_worker *w;
    const wh_host_service *s;     /* the pipeline service */
    wh_host_response *res;
    uint64_t deadline;            /* the service's timeout; 0 = none */
    const uint8_t *in;            /* the next stage's input */
    size_t inlen;
    wharf_plugin *held;           /* the instance whose output `in` is */
    buf bufs[2];                  /* joined outputs; `in` may be in one */
    int inbuf;                    /* the buffer holding `in`, or -1 */
} run;

static const wh_host_stage_conf *stage_of(const run *r, int k)
{
    return &r->s->conf->stages[k];
}

static bool append(buf *b, const uint8_t *data, size_t n)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
            return false;
        b->data = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return true;
}

/* ---- Errors ------------------------------------------------------------ */

/* Ends the request at stage k: `reason` goes to the client, `detail` to
 * the log, and an x-wharf-stage header names the stage. Returns false. */
static bool fail_at(run *r, int k, int status, const char *reason, const char *detail)
{
    const char *name = stage_of(r, k)->stage;
    wh_host_error(r->w, r->s, status, reason, r->res, "stage %s: %s", name, detail);
    if (r->res->nheaders < WH_HOST_MAX_HEADERS)
        r->res->headers[r->res->nheaders++] =
            (wh_host_header){ "x-wharf-stage", 13, name, strlen(name) };
    return false;
}

static bool out_of_time(const wharf_error *err)
{
    return err->status == WHARF_ERR_TRAP &&
           (err->trap == WHARF_TRAP_DEADLINE || err->trap == WHARF_TRAP_INTERRUPT);
}

/* Maps a failed instantiation or call of stage k to its status: 504 for
 * fuel and time, the stage's error_status for an error the plugin
 * reported (its message goes to the client too), 413 for a body too
 * large for the first stage's memory, else 500. `at` is the offset of a
 * streamed chunk in the stage's input, or SIZE_MAX. */
static bool call_failed(run *r, int k, const wharf_error *err, size_t at)
{
    const wh_host_stage_conf *sc = stage_of(r, k);
    const char *msg = err->message[0] ? err->message : wharf_status_name(err->status);
    char reason[300], detail[400], where[48] = "";
    int status = 500;
    if (at != SIZE_MAX)
        snprintf(where, sizeof where, " (chunk at byte %zu)", at);
    snprintf(reason, sizeof reason, "stage '%s' failed", sc->stage);
    if (err->status == WHARF_ERR_TRAP && err->trap == WHARF_TRAP_FUEL) {
        status = 504;
        WH_HOST_STAT_ADD(r->s, fuel_exhausted, 1);
        snprintf(reason, sizeof reason, "stage '%s' ran out of fuel", sc->stage);
    } else if (out_of_time(err)) {
        status = 504;
        WH_HOST_STAT_ADD(r->s, timeouts, 1);
        snprintf(reason, sizeof reason, "stage '%s' ran out of time", sc->stage);
    } else if (err->status == WHARF_ERR_TRAP) {
        WH_HOST_STAT_ADD(r->s, traps, 1);
    } else if (err->status == WHARF_ERR_PLUGIN) {
        status = (int)sc->error_status;
        snprintf(reason, sizeof reason, "stage '%s': %s", sc->stage, msg);
    } else if (err->status == WHARF_ERR_NOMEM && k == 0 && !sc->stream) {
        status = 413;
        snprintf(reason, sizeof reason, "the request body is too large for stage '%s'",
                 sc->stage);
    }
    snprintf(detail, sizeof detail, "%s%s: %s", err->status == WHARF_ERR_TRAP ? "trap"
             : wharf_status_name(err->status), where, msg);
    return fail_at(r, k, status, reason, detail);
}

static bool too_much(run *r, int k, size_t bytes)
{
    char reason[160], detail[96];
    snprintf(reason, sizeof reason, "stage '%s' wrote too much output", stage_of(r, k)->stage);
    snprintf(detail, sizeof detail, "output of %zu bytes or more over limits.max_output",
             bytes);
    return fail_at(r, k, 500, reason, detail);
}

/* The service's timeout bounds the whole pipeline; it is checked before
 * each call, which its stage's own timeout bounds. */
static bool in_time(run *r, int k)
{
    char reason[160];
    if (!r->deadline || wh_now_ns() < r->deadline)
        return true;
    WH_HOST_STAT_ADD(r->s, timeouts, 1);
    snprintf(reason, sizeof reason, "the pipeline ran out of time at stage '%s'",
             stage_of(r, k)->stage);
    return fail_at(r, k, 504, reason, "limits.timeout of the service exceeded");
}

/* ---- Stages ------------------------------------------------------------ */

/* Calls stage k's function on p with n bytes of input and records what
 * the call used (fuel, memory) in the stats. */
static wharf_status call(run *r, int k, wharf_plugin *p, const uint8_t *in, size_t n,
                         const uint8_t **out, size_t *outlen, wharf_error *err)
{
    wharf_status st = wharf_plugin_call(p, stage_of(r, k)->fn.function, in, n, out,
                                        outlen, err);
    wh_host_note_usage(&r->s->stages[k], p->inst);
    return st;
}

/* One call with the whole input; the output stays in p's call memory. */
static bool call_whole(run *r, int k, wharf_plugin *p)
{
    const wh_host_service_conf *fn = &stage_of(r, k)->fn;
    const uint8_t *out;
    size_t outlen;
    wharf_error err = { 0 };
    if (call(r, k, p, r->in, r->inlen, &out, &outlen, &err) != WHARF_OK)
        return call_failed(r, k, &err, SIZE_MAX);
    if (outlen > fn->limits.max_response)
        return too_much(r, k, outlen);
    r->in = out;
    r->inlen = outlen;
    r->inbuf = -1;
    return true;
}

/* The length of the next chunk of `len` > 0 bytes at `p`: whole lines
 * (the last one may lack its newline) or plain bytes, at most the stage's
 * chunk size. SIZE_MAX for a line longer than that. */
static size_t next_chunk(const wh_host_stage_conf *sc, const uint8_t *p, size_t len)
{
    size_t max = (size_t)sc->chunk;
    if (len <= max)
        return len;
    if (sc->stream == WH_HOST_STREAM_BYTES)
        return max;
    const uint8_t *nl = memrchr(p, '\n', max);
    return nl ? (size_t)(nl - p) + 1 : SIZE_MAX;
}

/* Calls stage k with one chunk (n == 0: the end of the stream) and joins
 * its output to `b`. `at` is the chunk's offset, for messages. */
static bool call_chunk(run *r, int k, wharf_plugin *p, size_t at, size_t n, buf *b)
{
    const wh_host_service_conf *fn = &stage_of(r, k)->fn;
    const uint8_t *out;
    size_t outlen;
    wharf_error err = { 0 };
    if (!in_time(r, k))
        return false;
    if (call(r, k, p, n ? r->in + at : NULL, n, &out, &outlen, &err) != WHARF_OK)
        return call_failed(r, k, &err, at);
    if (outlen > fn->limits.max_response - b->len)
        return too_much(r, k, b->len + outlen);
    if (!append(b, out, outlen))
        return fail_at(r, k, 500, "the server is out of memory", "joining stream output");
    return true;
}

/* Feeds the input to p chunk by chunk; the joined output goes to the
 * buffer that does not hold the input. */
static bool call_stream(run *r, int k, wharf_plugin *p)
{
    const wh_host_stage_conf *sc = stage_of(r, k);
    buf *b = &r->bufs[r->inbuf == 0];
    b->len = 0;
    for (size_t at = 0;;) {
        size_t n = at < r->inlen ? next_chunk(sc, r->in + at, r->inlen - at) : 0;
        char reason[160];
        if (n == SIZE_MAX) {
            snprintf(reason, sizeof reason, "a line is longer than stage '%s' takes "
                     "(%zu bytes)", sc->stage, (size_t)sc->chunk);
            return fail_at(r, k, 413, reason, "line longer than the chunk size");
        }
        if (!call_chunk(r, k, p, at, n, b))
            return false;
        if (n == 0)
            break;
        at += n;
    }
    r->in = b->data;
    r->inlen = b->len;
    r->inbuf = (int)(b - r->bufs);
    return true;
}

/* Runs stage k on a fresh instance, which it keeps while its output is
 * the next stage's input. */
static bool run_stage(run *r, int k)
{
    const wh_host_stage_conf *sc = stage_of(r, k);
    wharf_plugin *p = NULL;
    wharf_error err = { 0 };
    if (!in_time(r, k))
        return false;
    if (wharf_plugin_instantiate(r->s->stages[k].plugin, &p, &err) != WHARF_OK)
        return call_failed(r, k, &err, SIZE_MAX);
    bool ok = sc->stream ? call_stream(r, k, p) : call_whole(r, k, p);
    /* The held instance's output was this stage's input: no longer needed. */
    wharf_plugin_free(r->held);
    r->held = NULL;
    if (ok && !sc->stream)
        r->held = p;
    else
        wharf_plugin_free(p);
    return ok;
}

/* Sends the last stage's output. A joined buffer larger than the worker's
 * response buffer trades places with it rather than being copied. */
static void respond(run *r)
{
    wh_host_worker *w = r->w;
    const wh_host_service_conf *c = r->s->conf;
    if (r->inlen > c->limits.max_response) {
        wh_host_error(w, r->s, 500, "the service's response is too large", r->res,
                      "output of %zu bytes over limits.max_response", r->inlen);
        return;
    }
    if (r->inbuf >= 0 && r->inlen > w->out_cap) {
        buf *b = &r->bufs[r->inbuf];
        uint8_t *old = w->out;
        size_t cap = w->out_cap;
        w->out = b->data;
        w->out_cap = b->cap;
        *b = (buf){ .data = old, .cap = cap };
    } else if (!wh_host_pool_reserve(w, r->inlen)) {
        wh_host_error(w, r->s, 500, "the server is out of memory", r->res,
                      "cannot hold a %zu-byte response", r->inlen);
        return;
    } else if (r->inlen) {
        memcpy(w->out, r->in, r->inlen);
    }
    *r->res = (wh_host_response){ .status = 200, .body = w->out, .body_len = r->inlen };
    r->res->headers[0] = (wh_host_header){ "content-type", 12, c->content_type,
                                           strlen(c->content_type) };
    r->res->nheaders = 1;
}

void wh_host_pipeline_run(wh_host_worker *w, wh_host_service *s,
                          const wh_host_request *req, wh_host_response *res)
{
    uint64_t timeout = s->conf->limits.timeout_ns;
    run r = {
        .w = w, .s = s, .res = res,
        .deadline = timeout ? wh_now_ns() + timeout : 0,
        .in = req->body, .inlen = req->body_len, .inbuf = -1,
    };
    bool ok = true;
    for (int k = 0; ok && k < s->conf->nstages; k++)
        ok = run_stage(&r, k);
    if (ok)
        respond(&r);
    wharf_plugin_free(r.held);
    free(r.bufs[0].data);
    free(r.bufs[1].data);
}

/* ---- Start and stop ------------------------------------------------------ */

bool wh_host_pipeline_load(wh_host_app *app, wh_host_service *s, char *why, size_t len)
{
    const wh_host_service_conf *c = s->conf;
    s->stages = calloc((size_t)c->nstages, sizeof *s->stages);
    if (!s->stages) {
        snprintf(why, len, "out of memory");
        return false;
    }
    for (int k = 0; k < c->nstages; k++) {
        wh_host_service *st = &s->stages[k];
        char msg[400];
        st->conf = &c->stages[k].fn;
        st->index = s->index;
        st->limits = (wharf_limits){
            .max_memory_bytes = st->conf->limits.max_memory,
            .fuel = st->conf->limits.fuel,
            .timeout_ns = st->conf->limits.timeout_ns,
        };
        if (!wh_host_function_load(app, st, msg, sizeof msg)) {
            snprintf(why, len, "stage '%s' (line %d): %s", c->stages[k].stage,
                     c->stages[k].line, msg);
            return false;
        }
    }
    return true;
}

void wh_host_pipeline_free(wh_host_service *s)
{
    for (int k = 0; s->stages && k < s->conf->nstages; k++)
        wharf_compiled_plugin_free(s->stages[k].plugin);
    free(s->stages);
    s->stages = NULL;
}
