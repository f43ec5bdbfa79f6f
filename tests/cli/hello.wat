;; hello.wat: the smallest WASI command: writes "hello" to stdout with
;; fd_write and returns from _start (exit status 0).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello\n")
  (data (i32.const 0) "\10\00\00\00\06\00\00\00")   ;; iovec {16, 6}
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1)
                          (i32.const 8)))))
