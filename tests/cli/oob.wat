;; oob.wat: loads and stores around the end of a one-page memory.
(module
  (memory 1)
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "store") (param i32)
    (i32.store (local.get 0) (i32.const 1))))
