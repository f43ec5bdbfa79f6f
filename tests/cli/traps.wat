;; traps.wat: one trap of each arithmetic kind, in functions whose names
;; come from the name section (built with `wat2wasm --debug-names`).
(module
  (func $explode (export "boom")
    (unreachable))
  (func $compute_ratio (export "ratio") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $to_int (export "to_int") (param f64) (result i32)
    (i32.trunc_f64_s (local.get 0)))
  ;; The trap happens one call deep: the message names the callee.
  (func (export "outer") (result i32)
    (call $compute_ratio (i32.const 7) (i32.const 0))))
