/* ml.c: a small neural network as plugin functions: a 2-layer perceptron
 * (inputs -> tanh units -> softmax outputs) whose shape, labels and
 * weights come from a data file, weights.txt (written by train.py, next
 * to this file). examples/wharf.yaml serves it as the pipeline
 * parse -> predict -> format on /ml/predict:
 *
 *   parse    text numbers ("5.1, 3.5, 1.4, 0.2" or "[5.1,3.5,1.4,0.2]")
 *            to an f32 vector (little-endian, 4 bytes each);
 *   predict  an f32 vector of the model's inputs to the f32 vector of its
 *            class probabilities;
 *   format   the probabilities to JSON:
 *            {"class":"setosa","probabilities":{"setosa":0.981,...}}.
 *
 * The model is read once per instance, on first use, from config `model`
 * (default /model/weights.txt): the host preopens the directory through
 * WASI (a stage's `dirs`), so the plugin reaches that file and nothing
 * else. Built as a WASI reactor with the C SDK (sdk/c/wharf_pdk.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wharf_pdk.h"

#define MAX_IN 16
#define MAX_HIDDEN 64
#define MAX_OUT 16
#define MAX_TEXT 4096   /* parse's input, in bytes */

typedef struct model {
    int nin, nhid, nout;
    char labels[MAX_OUT][32];
    float mean[MAX_IN], scale[MAX_IN];      /* x' = (x - mean) * scale */
    float w1[MAX_HIDDEN][MAX_IN], b1[MAX_HIDDEN];
    float w2[MAX_OUT][MAX_HIDDEN], b2[MAX_OUT];
} model;

static model net;
static int loaded;
static char problem[200];   /* why the model could not be read */

/* ---- Reading the model ----------------------------------------------- */

/* A cursor over the file's text; '#' starts a comment to the line's end. */
static const char *cur;

static void skip_space(void)
{
    for (;;) {
        while (*cur == ' ' || *cur == '\t' || *cur == '\n' || *cur == '\r')
            cur++;
        if (*cur != '#')
            return;
        while (*cur && *cur != '\n')
            cur++;
    }
}

/* The next word into out (cap bytes); 0 at the end or when too long. */
static int word(char *out, size_t cap)
{
    skip_space();
    size_t n = strcspn(cur, " \t\r\n#");
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, cur, n);
    out[n] = '\0';
    cur += n;
    return 1;
}

/* Reads `key`, then rows x cols numbers into dst (rows `stride` apart). */
static int matrix(const char *key, float *dst, int rows, int cols, int stride)
{
    char w[16];
    if (!word(w, sizeof w) || strcmp(w, key) != 0)
        return snprintf(problem, sizeof problem, "expected '%s'", key), 0;
    for (int i = 0; i < rows * cols; i++) {
        char *end;
        skip_space();
        dst[i / cols * stride + i % cols] = strtof(cur, &end);
        if (end == cur)
            return snprintf(problem, sizeof problem, "'%s': expected %d numbers",
                            key, rows * cols), 0;
        cur = end;
    }
    return 1;
}

static int vector(const char *key, float *dst, int n)
{
    return matrix(key, dst, 1, n, n);
}

static int parse_model(void)
{
    float shape[3];
    char w[16];
    if (!vector("shape", shape, 3))
        return 0;
    net.nin = (int)shape[0], net.nhid = (int)shape[1], net.nout = (int)shape[2];
    if (net.nin < 1 || net.nin > MAX_IN || net.nhid < 1 || net.nhid > MAX_HIDDEN ||
        net.nout < 1 || net.nout > MAX_OUT)
        return snprintf(problem, sizeof problem, "unsupported shape"), 0;
    if (!word(w, sizeof w) || strcmp(w, "labels") != 0)
        return snprintf(problem, sizeof problem, "expected 'labels'"), 0;
    for (int k = 0; k < net.nout; k++)
        if (!word(net.labels[k], sizeof net.labels[k]))
            return snprintf(problem, sizeof problem, "expected %d labels", net.nout), 0;
    return vector("mean", net.mean, net.nin) && vector("scale", net.scale, net.nin) &&
           matrix("w1", &net.w1[0][0], net.nhid, net.nin, MAX_IN) &&
           vector("b1", net.b1, net.nhid) &&
           matrix("w2", &net.w2[0][0], net.nout, net.nhid, MAX_HIDDEN) &&
           vector("b2", net.b2, net.nout);
}

/* Loads the model once per instance; 0 with the error set on failure. */
static int load_model(void)
{
    static char text[64 * 1024];
    char path[256] = "/model/weights.txt";
    if (loaded)
        return 1;
    int64_t n = wharf_config_get("model", path, sizeof path - 1);
    path[n > 0 && n < (int64_t)sizeof path ? n : (int64_t)strlen(path)] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        snprintf(problem, sizeof problem, "cannot open the model %s (is its "
                 "directory in the stage's dirs?)", path);
    else {
        size_t got = fread(text, 1, sizeof text - 1, f);
        text[got] = '\0';
        fclose(f);
        cur = text;
        if (!parse_model()) {
            char why[sizeof problem];
            memcpy(why, problem, sizeof why);
            snprintf(problem, sizeof problem, "model %s: %s", path, why);
        } else {
            loaded = 1;
        }
    }
    return loaded ? 1 : (wharf_error_set(problem), 0);
}

/* ---- The functions --------------------------------------------------- */

WHARF_PLUGIN_FN(parse)
{
    static char text[MAX_TEXT + 1];
    float v[MAX_IN];
    uint64_t len = wharf_input(text, MAX_TEXT);
    if (len > MAX_TEXT)
        return wharf_error_set("the input is too long");
    text[len] = '\0';
    int n = 0;
    for (const char *p = text;;) {
        p += strspn(p, " \t\r\n,[]");
        if (!*p)
            break;
        char *end;
        float x = strtof(p, &end);
        if (end == p || !isfinite(x) || n == MAX_IN) {
            char msg[80];
            snprintf(msg, sizeof msg, "expected at most %d numbers; "
                     "stuck at byte %d", MAX_IN, (int)(p - text));
            return wharf_error_set(msg);
        }
        v[n++] = x;
        p = end;
    }
    wharf_output(v, (uint64_t)n * sizeof v[0]);
    return 0;
}

static void forward(const float *in, float *out)
{
    float x[MAX_IN], h[MAX_HIDDEN], top = -INFINITY, sum = 0;
    for (int i = 0; i < net.nin; i++)
        x[i] = (in[i] - net.mean[i]) * net.scale[i];
    for (int j = 0; j < net.nhid; j++) {
        float z = net.b1[j];
        for (int i = 0; i < net.nin; i++)
            z += net.w1[j][i] * x[i];
        h[j] = tanhf(z);
    }
    for (int k = 0; k < net.nout; k++) {
        out[k] = net.b2[k];
        for (int j = 0; j < net.nhid; j++)
            out[k] += net.w2[k][j] * h[j];
        top = out[k] > top ? out[k] : top;
    }
    for (int k = 0; k < net.nout; k++)
        sum += out[k] = expf(out[k] - top);
    for (int k = 0; k < net.nout; k++)
        out[k] /= sum;
}

WHARF_PLUGIN_FN(predict)
{
    float in[MAX_IN], out[MAX_OUT];
    if (!load_model())
        return 1;
    uint64_t n = wharf_input(in, sizeof in);
    if (n != (uint64_t)net.nin * sizeof in[0]) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected %d f32 values (%d bytes), got "
                 "%llu bytes", net.nin, net.nin * 4, (unsigned long long)n);
        return wharf_error_set(msg);
    }
    forward(in, out);
    wharf_output(out, (uint64_t)net.nout * sizeof out[0]);
    return 0;
}

WHARF_PLUGIN_FN(format)
{
    float p[MAX_OUT];
    char json[1024];
    if (!load_model())
        return 1;
    if (wharf_input(p, sizeof p) != (uint64_t)net.nout * sizeof p[0])
        return wharf_error_set("expected the model's output vector");
    int best = 0;
    for (int k = 1; k < net.nout; k++)
        best = p[k] > p[best] ? k : best;
    int n = snprintf(json, sizeof json, "{\"class\":\"%s\",\"probabilities\":{",
                     net.labels[best]);
    for (int k = 0; k < net.nout; k++)
        n += snprintf(json + n, sizeof json - (size_t)n, "%s\"%s\":%.3f", k ? "," : "",
                      net.labels[k], (double)p[k]);
    n += snprintf(json + n, sizeof json - (size_t)n, "}}\n");
    wharf_output(json, (uint64_t)n);
    return 0;
}
