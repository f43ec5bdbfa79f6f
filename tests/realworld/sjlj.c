/* sjlj.c: setjmp/longjmp for WASI guests on binaryen's asyncify.
 *
 * Plain wasm cannot jump across frames, so this uses asyncify (wasm-opt
 * --asyncify), which can unwind the wasm call stack into a buffer and
 * rebuild it later. The program's real entry point is renamed to
 * sjlj_main (compile its file with -Dmain=sjlj_main) and main() below
 * drives it:
 *   setjmp(env)   unwinds to main(), which keeps a copy of the stack image
 *                 for env and rewinds right away; setjmp then returns 0.
 *   longjmp(env)  unwinds to main() (the image is thrown away), which
 *                 rewinds with env's image and resets the C stack pointer;
 *                 the rebuilt setjmp call returns the value.
 * Images are kept in stack order, keyed by the jmp_buf's address: a jmp_buf
 * lives in a C stack frame, so every image keyed at or below a new setjmp's
 * jmp_buf belongs to a frame that has returned and is dropped. asyncify
 * leaves main() uninstrumented since it calls stop_unwind itself.
 * Cost: every setjmp copies the wasm locals of all frames between main()
 * and its caller (a few KiB in Lua), and that image must fit in the 1 MiB
 * scratch buffer, or asyncify traps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) \
    __attribute__((import_module("asyncify"), import_name(name)))
IMPORT("start_unwind") void asyncify_start_unwind(void *data);
IMPORT("stop_unwind") void asyncify_stop_unwind(void);
IMPORT("start_rewind") void asyncify_start_rewind(void *data);
IMPORT("stop_rewind") void asyncify_stop_rewind(void);

int sjlj_main(int argc, char **argv);

/* Asyncify's buffer: a header with the cursor and the end, then the data. */
#define SCRATCH_SIZE (1u << 20)
static struct {
    uint8_t *cur, *end;
    uint8_t data[SCRATCH_SIZE];
} scratch;

struct image { uintptr_t env, sp; size_t off, len; };

enum op { OP_NONE, OP_CAPTURE, OP_JUMP };

static struct {
    enum op op;          /* why the stack is unwinding */
    uintptr_t target;    /* the jmp_buf of that setjmp or longjmp */
    int val;             /* what the rebuilt setjmp returns */
    int rewinding;       /* main() is rebuilding the stack */
    struct image *imgs;  /* saved images, outermost first */
    size_t n, cap;
    uint8_t *bytes;      /* their data, back to back */
    size_t bytes_cap;
} st;

/* The C stack pointer is the linker's __stack_pointer global. */
__asm__(".globaltype __stack_pointer, i32");

static uintptr_t get_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("global.get __stack_pointer\n\tlocal.set %0" : "=r"(sp));
    return sp;
}

static void set_sp(uintptr_t sp)
{
    __asm__ volatile("local.get %0\n\tglobal.set __stack_pointer" : : "r"(sp));
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    p = realloc(p, n * elem);
    if (!p) {
        fputs("sjlj: out of memory\n", stderr);
        abort();
    }
    *cap = n;
    return p;
}

static void unwind(enum op op, void *env, int val)
{
    st.op = op;
    st.target = (uintptr_t)env;
    st.val = val;
    scratch.cur = scratch.data;
    scratch.end = scratch.data + SCRATCH_SIZE;
    asyncify_start_unwind(&scratch);
}

/* Never inlined: asyncify leaves a function that calls start_unwind
 * uninstrumented, which must be this one and not its caller. */
__attribute__((noinline)) int setjmp(void *env)
{
    if (st.rewinding) {
        asyncify_stop_rewind();
        st.rewinding = 0;
        return st.val;
    }
    unwind(OP_CAPTURE, env, 0);
    return 0;
}

__attribute__((noinline)) void longjmp(void *env, int val)
{
    unwind(OP_JUMP, env, val ? val : 1);
}

/* Drops the images of frames deeper than env (and env's own if inclusive). */
static void drop_below(uintptr_t env, int inclusive)
{
    while (st.n && (st.imgs[st.n - 1].env < env ||
                    (inclusive && st.imgs[st.n - 1].env == env)))
        st.n--;
}

static void capture(void)
{
    size_t len = (size_t)(scratch.cur - scratch.data);
    drop_below(st.target, 1);
    size_t off = st.n ? st.imgs[st.n - 1].off + st.imgs[st.n - 1].len : 0;
    st.imgs = grow(st.imgs, &st.cap, st.n + 1, sizeof *st.imgs);
    st.bytes = grow(st.bytes, &st.bytes_cap, off + len, 1);
    memcpy(st.bytes + off, scratch.data, len);
    st.imgs[st.n++] = (struct image){ st.target, get_sp(), off, len };
}

static void restore(void)
{
    drop_below(st.target, 0);
    if (!st.n || st.imgs[st.n - 1].env != st.target) {
        fputs("sjlj: longjmp to a jmp_buf whose setjmp has returned\n", stderr);
        abort();
    }
    struct image *im = &st.imgs[st.n - 1];
    memcpy(scratch.data, st.bytes + im->off, im->len);
    scratch.cur = scratch.data + im->len;
    set_sp(im->sp);
}

int main(int argc, char **argv)
{
    int rc = sjlj_main(argc, argv);
    while (st.op != OP_NONE) {
        asyncify_stop_unwind();
        if (st.op == OP_CAPTURE)
            capture();
        else
            restore();
        st.op = OP_NONE;
        st.rewinding = 1;
        asyncify_start_rewind(&scratch);
        rc = sjlj_main(argc, argv);
    }
    return rc;
}
