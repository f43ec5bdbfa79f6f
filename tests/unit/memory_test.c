/* memory_test.c: unit tests of cheap instantiation through the public API
 * (src/wasm/memory.c and the pre-linked path of instance.c): the engine's
 * memory pool, initial memory images (copied and copy-on-write),
 * pre-linked modules and per-instance user pointers. The point of each
 * pool test is isolation: a memory that comes back from the pool must
 * hold nothing of the instance that had it before. */
#include "../../include/wharf.h"
#include "../test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* (module
 *   (import "env" "who" (func $who (result i32)))
 *   (memory (export "mem") 1 8)
 *   (data (i32.const 16) "hello")
 *   (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
 *   (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "who") (result i32) (call $who))) */
static const uint8_t pool_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f, 0x03, 0x60,
    0x00, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01,
    0x7f, 0x02, 0x0b, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x77, 0x68, 0x6f,
    0x00, 0x00, 0x03, 0x05, 0x04, 0x01, 0x02, 0x02, 0x00, 0x05, 0x04, 0x01,
    0x01, 0x01, 0x08, 0x07, 0x22, 0x05, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,
    0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x01, 0x04, 0x70, 0x65, 0x65, 0x6b,
    0x00, 0x02, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x03, 0x03, 0x77, 0x68,
    0x6f, 0x00, 0x04, 0x0a, 0x1f, 0x04, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01,
    0x3a, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b,
    0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x04, 0x00, 0x10, 0x00, 0x0b,
    0x0b, 0x0b, 0x01, 0x00, 0x41, 0x10, 0x0b, 0x05, 0x68, 0x65, 0x6c, 0x6c,
    0x6f,
};

/* (module
 *   (memory (export "mem") 8)
 *   (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
 *   (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))
 * big_module() appends a data section with a large image. */
static const uint8_t big_head[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x02, 0x60,
    0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02,
    0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x08, 0x07, 0x15, 0x03, 0x03, 0x6d,
    0x65, 0x6d, 0x02, 0x00, 0x04, 0x70, 0x6f, 0x6b, 0x65, 0x00, 0x00, 0x04,
    0x70, 0x65, 0x65, 0x6b, 0x00, 0x01, 0x0a, 0x13, 0x02, 0x09, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x3a, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d,
    0x00, 0x00, 0x0b,
};

#define BIG_AT 100                 /* the large segment's offset */
#define BIG_LEN (300 * 1024)       /* past the size that is mapped, not copied */
#define PATCH_AT 200               /* a second segment overwrites part of it */

static const wharf_valkind i32_1[] = { WHARF_I32 };

/* The host function "who": the calling instance's user pointer, as an int. */
static wharf_status host_who(wharf_caller *c, void *user, wharf_slot *slots)
{
    const int *id = wharf_caller_user(c);
    slots[0] = id ? (uint32_t)*id : 0;
    return user == (void *)host_who ? WHARF_OK : wharf_caller_trap(c, "bad user");
}

static size_t put_leb(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        p[n] = v & 0x7f;
        v >>= 7;
        p[n] |= v ? 0x80 : 0;
        n++;
    } while (v);
    return n;
}

/* big_head plus (data (i32.const BIG_AT) <BIG_LEN bytes: i % 251 + 1>)
 * (data (i32.const PATCH_AT) "zz"). Returns a malloc'd module. */
static uint8_t *big_module(size_t *len)
{
    uint8_t *m = malloc(sizeof big_head + BIG_LEN + 64);
    uint8_t body[32], *b = body;
    if (!m)
        return NULL;
    memcpy(m, big_head, sizeof big_head);
    size_t n = sizeof big_head;
    *b++ = 2;                                   /* two segments */
    *b++ = 0; *b++ = 0x41; *b++ = 0xe4; *b++ = 0x00; *b++ = 0x0b;  /* i32.const 100 */
    b += put_leb(b, BIG_LEN);
    size_t head = (size_t)(b - body);
    static const uint8_t patch[] = { 0, 0x41, 0xc8, 0x01, 0x0b, 2, 'z', 'z' };
    m[n++] = 0x0b;                              /* data section */
    n += put_leb(m + n, (uint32_t)(head + BIG_LEN + sizeof patch));
    memcpy(m + n, body, head);
    n += head;
    for (uint32_t i = 0; i < BIG_LEN; i++)
        m[n++] = (uint8_t)(i % 251 + 1);
    memcpy(m + n, patch, sizeof patch);
    *len = n + sizeof patch;
    return m;
}

static int32_t call1(wharf_instance *inst, const char *name, int32_t a, int32_t b,
                     uint32_t nargs, wharf_status *st)
{
    wharf_func *f;
    wharf_val args[2] = { { .kind = WHARF_I32, .of.i32 = a },
                          { .kind = WHARF_I32, .of.i32 = b } };
    wharf_val r = { .kind = WHARF_I32 };
    wharf_error err;
    const wharf_valkind *p, *res;
    uint32_t np, nr;
    *st = wharf_instance_func(inst, name, &f);
    if (*st != WHARF_OK)
        return 0;
    wharf_func_type(f, &p, &np, &res, &nr);
    *st = wharf_call(inst, f, args, nargs, &r, nr, &err);
    return r.of.i32;
}

static int32_t peek(wharf_instance *inst, int32_t at)
{
    wharf_status st;
    int32_t v = call1(inst, "peek", at, 0, 1, &st);
    return st == WHARF_OK ? v : -1;
}

static wharf_status poke_at(wharf_instance *inst, int32_t at, int32_t v)
{
    wharf_status st;
    call1(inst, "poke", at, v, 2, &st);
    return st;
}

static void poke(wharf_instance *inst, int32_t at, int32_t v)
{
    CHECK(poke_at(inst, at, v) == WHARF_OK, "poke %d", at);
}

/* Whether [from, to) of the instance's memory is all zero. */
static bool zero(wharf_instance *inst, size_t from, size_t to)
{
    size_t len;
    const uint8_t *m = wharf_instance_memory(inst, &len);
    for (size_t i = from; i < to && i < len; i++)
        if (m[i])
            return false;
    return true;
}

typedef struct fixture {
    wharf_engine *e;
    wharf_linker *l;
    wharf_module *m;
    wharf_instance_pre *pre;
} fixture;

static bool setup(fixture *f, uint32_t pool, const uint8_t *wasm, size_t len)
{
    memset(f, 0, sizeof *f);
    wharf_config cfg = { .memory_pool = pool };
    wharf_error err;
    if (wharf_engine_new(&cfg, &f->e) != WHARF_OK || wharf_linker_new(f->e, &f->l) != WHARF_OK ||
        wharf_linker_define_func(f->l, "env", "who", NULL, 0, i32_1, 1, host_who,
                                 (void *)host_who) != WHARF_OK)
        return false;
    wharf_status s = wharf_module_new(f->e, wasm, len, &f->m, &err);
    CHECK(s == WHARF_OK, "module: %s", err.message);
    if (s == WHARF_OK)
        s = wharf_instance_pre_new(f->m, f->l, &f->pre, &err);
    CHECK(s == WHARF_OK, "pre: %s", err.message);
    return s == WHARF_OK;
}

static void teardown(fixture *f)
{
    wharf_instance_pre_free(f->pre);
    wharf_module_free(f->m);
    wharf_linker_free(f->l);
    wharf_engine_free(f->e);
}

static wharf_instance *make(fixture *f, void *user)
{
    wharf_instance *inst = NULL;
    wharf_error err;
    wharf_status s = wharf_instance_pre_instantiate(f->pre, NULL, user, &inst, &err);
    CHECK(s == WHARF_OK, "instantiate: %s", err.message);
    return inst;
}

/* A guest dirties its memory (data, a far page, grown pages); the next
 * instance gets the same memory back from the pool, reset. */
static void test_pool_isolation(void)
{
    fixture f;
    if (!setup(&f, 2, pool_wasm, sizeof pool_wasm))
        goto out;
    wharf_instance *a = make(&f, NULL);
    if (!a)
        goto out;
    wharf_status st;
    size_t len;
    uint8_t *base = wharf_instance_memory(a, &len);
    CHECK(peek(a, 16) == 'h' && len == 65536, "data applied, one page");
    poke(a, 16, 'X');
    poke(a, 40000, 7);
    CHECK(call1(a, "grow", 3, 0, 1, &st) == 1 && st == WHARF_OK, "grow");
    poke(a, 3 * 65536 + 5, 9);
    wharf_instance_free(a);

    wharf_instance *b = make(&f, NULL);
    if (!b)
        goto out;
    uint8_t *again = wharf_instance_memory(b, &len);
    CHECK(again == base, "the pooled memory is reused");
    CHECK(len == 65536, "back to the minimum size: %zu", len);
    CHECK(peek(b, 16) == 'h', "initial data restored");
    CHECK(zero(b, 0, 16) && zero(b, 21, 65536), "the rest is zero");
    CHECK(peek(b, 65536) == -1, "the old grown pages are out of bounds");
    CHECK(call1(b, "grow", 3, 0, 1, &st) == 1 && st == WHARF_OK, "grow again");
    CHECK(zero(b, 65536, 4 * 65536), "grown pages are zero");
    wharf_instance_free(b);
out:
    teardown(&f);
}

/* Every page dirty: the reset falls back to dropping the pages. */
static void test_pool_many_runs(void)
{
    fixture f;
    if (!setup(&f, 1, pool_wasm, sizeof pool_wasm))
        goto out;
    wharf_instance *a = make(&f, NULL);
    wharf_status st;
    if (!a)
        goto out;
    CHECK(call1(a, "grow", 7, 0, 1, &st) == 1, "grow to 8 pages");
    for (int32_t at = 0; at < 8 * 65536; at += 8192)
        poke(a, at, 0x5a);
    wharf_instance_free(a);
    wharf_instance *b = make(&f, NULL);
    if (!b)
        goto out;
    CHECK(call1(b, "grow", 7, 0, 1, &st) == 1, "grow to 8 pages");
    CHECK(zero(b, 0, 16) && zero(b, 21, 8 * 65536), "all zero but the data");
    wharf_instance_free(b);
out:
    teardown(&f);
}

/* Plain wharf_instance_new memories go back to the pool too. */
static void test_pool_plain_instances(void)
{
    fixture f;
    if (!setup(&f, 1, pool_wasm, sizeof pool_wasm))
        goto out;
    wharf_instance *a, *b;
    wharf_error err;
    size_t len;
    if (wharf_instance_new(f.m, f.l, NULL, &a, &err) != WHARF_OK)
        goto out;
    uint8_t *base = wharf_instance_memory(a, &len);
    poke(a, 100, 1);
    wharf_instance_free(a);
    if (wharf_instance_new(f.m, f.l, NULL, &b, &err) != WHARF_OK)
        goto out;
    CHECK(wharf_instance_memory(b, &len) == base && peek(b, 100) == 0 &&
          peek(b, 16) == 'h', "reused and reset");
    wharf_instance_free(b);
out:
    teardown(&f);
}

/* A large image is mapped copy-on-write: writes stay private to the
 * instance, and a later segment overwrites an earlier one. */
static void test_large_image(void)
{
    size_t len;
    uint8_t *wasm = big_module(&len);
    fixture f;
    if (!wasm || !setup(&f, 2, wasm, len))
        goto out;
    wharf_instance *a = make(&f, NULL), *b = make(&f, NULL);
    if (!a || !b)
        goto out_free;
    CHECK(peek(a, BIG_AT) == 1 && peek(a, BIG_AT + 1000) == 1000 % 251 + 1 &&
          peek(a, BIG_AT + BIG_LEN - 1) == (BIG_LEN - 1) % 251 + 1, "image");
    CHECK(peek(a, PATCH_AT) == 'z' && peek(a, PATCH_AT + 2) == (PATCH_AT + 2 - BIG_AT) % 251 + 1,
          "the later segment wins");
    CHECK(zero(a, 0, BIG_AT) && zero(a, BIG_AT + BIG_LEN, 8 * 65536), "zero around it");
    poke(a, BIG_AT + 5000, 0);
    poke(a, BIG_AT + BIG_LEN + 10, 77);
    CHECK(peek(b, BIG_AT + 5000) == 5000 % 251 + 1, "private to the instance");
    wharf_instance_free(a);
    a = make(&f, NULL);
    CHECK(a && peek(a, BIG_AT + 5000) == 5000 % 251 + 1 &&
          peek(a, BIG_AT + BIG_LEN + 10) == 0, "a pooled memory gets the image again");
out_free:
    wharf_instance_free(a);
    wharf_instance_free(b);
out:
    teardown(&f);
    free(wasm);
}

/* Host functions of a shared linker find their instance's state. */
static void test_users(void)
{
    fixture f;
    int one = 1, two = 2;
    wharf_status st;
    if (!setup(&f, 0, pool_wasm, sizeof pool_wasm))
        goto out;
    wharf_instance *a = make(&f, &one), *b = make(&f, &two);
    if (a && b) {
        CHECK(call1(a, "who", 0, 0, 0, &st) == 1 && call1(b, "who", 0, 0, 0, &st) == 2,
              "each instance's user");
        wharf_instance_set_user(a, &two);
        CHECK(wharf_instance_user(a) == &two && call1(a, "who", 0, 0, 0, &st) == 2,
              "set_user");
    }
    wharf_instance_free(a);
    wharf_instance_free(b);
    void *p = wharf_linker_alloc(f.l, 100);
    CHECK(p && !memcmp(p, (char[100]){ 0 }, 100), "linker memory, zeroed");
out:
    teardown(&f);
}

static void test_pre_unlinkable(void)
{
    wharf_engine *e;
    wharf_module *m;
    wharf_instance_pre *pre;
    wharf_error err;
    if (wharf_engine_new(NULL, &e) != WHARF_OK)
        return;
    if (wharf_module_new(e, pool_wasm, sizeof pool_wasm, &m, &err) == WHARF_OK) {
        CHECK(wharf_instance_pre_new(m, NULL, &pre, &err) == WHARF_ERR_UNLINKABLE &&
              !pre && strstr(err.message, "env.who"), "unlinkable: %s", err.message);
        wharf_module_free(m);
    }
    wharf_engine_free(e);
}

/* Threads instantiate one pre at once: the image is built once, the pool
 * is shared, and every instance sees its own fresh memory. (No CHECK in
 * the threads: the harness's counters are not atomic.) */
static void *worker(void *arg)
{
    fixture *f = arg;
    long bad = 0;
    for (int i = 0; i < 200; i++) {
        wharf_instance *inst;
        if (wharf_instance_pre_instantiate(f->pre, NULL, NULL, &inst, NULL) != WHARF_OK) {
            bad++;
            continue;
        }
        bad += peek(inst, BIG_AT + 7) != 8 || peek(inst, BIG_AT + BIG_LEN + 1) != 0;
        bad += poke_at(inst, BIG_AT + 7, 0) != WHARF_OK;
        bad += poke_at(inst, BIG_AT + BIG_LEN + 1, 1) != WHARF_OK;
        wharf_instance_free(inst);
    }
    return (void *)bad;
}

static void test_threads(void)
{
    size_t len;
    uint8_t *wasm = big_module(&len);
    fixture f;
    pthread_t th[4];
    if (!wasm || !setup(&f, 3, wasm, len))
        goto out;
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, worker, &f);
    long bad = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (long)r;
    }
    CHECK(bad == 0, "%ld instances saw another's memory", bad);
out:
    teardown(&f);
    free(wasm);
}

int main(void)
{
    test_pool_isolation();
    test_pool_many_runs();
    test_pool_plain_instances();
    test_large_image();
    test_users();
    test_pre_unlinkable();
    test_threads();
    return test_done();
}
