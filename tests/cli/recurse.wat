;; recurse.wat: unbounded (non-tail) recursion: must end in "call stack
;; exhausted", never a host stack overflow.
(module
  (func $down (export "down") (param i32) (result i32)
    (i32.add (i32.const 1)
             (call $down (i32.add (local.get 0) (i32.const 1))))))
