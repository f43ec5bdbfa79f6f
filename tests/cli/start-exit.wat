;; start-exit.wat: no _start; its start function calls proc_exit(5), so
;; instantiation alone ends the run with status 5.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $init (call $exit (i32.const 5)))
  (start $init))
