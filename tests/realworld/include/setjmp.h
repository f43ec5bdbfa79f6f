/* setjmp.h: setjmp/longjmp for WASI guests, which wasi-libc (2022) lacks.
 * Implemented in sjlj.c on binaryen's asyncify transform: the module must be
 * post-processed with `wasm-opt --asyncify` (tests/realworld/run.sh does).
 * Restriction: a jmp_buf must live on the C stack (a local variable of the
 * function that calls setjmp), because saved stack images are kept in
 * stack order and a jmp_buf deeper than the current frame counts as dead. */
#ifndef WHARF_RW_SETJMP_H
#define WHARF_RW_SETJMP_H

/* Only the address matters: the saved state lives in sjlj.c's image stack. */
typedef struct { int unused; } jmp_buf[1];

__attribute__((returns_twice)) int setjmp(jmp_buf env);
_Noreturn void longjmp(jmp_buf env, int val);

#define _setjmp setjmp
#define _longjmp longjmp

#endif
