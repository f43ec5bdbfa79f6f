;; inspect.wat: one import and one export of each kind, plus a name
;; section (built with --debug-names), for `wharf inspect`'s golden output.
(module $inspected
  (import "env" "log" (func $log (param i32 f64)))
  (import "env" "table" (table 1 funcref))
  (import "env" "memory" (memory 1))
  (import "env" "base" (global i32))
  (func $pair (export "pair") (param i64) (result i32 i64)
    (i32.const 1) (local.get 0))
  (table (export "tab") 2 externref)
  (export "mem" (memory 0))
  (global (export "counter") (mut i32) (i32.const 0))
  (export "log_again" (func $log))
  (data (i32.const 0) "hi"))
