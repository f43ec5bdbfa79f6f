;; values.wat: exports of every number type, for `wharf run --invoke`
;; argument parsing and result printing.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "neg64") (param i64) (result i64)
    (i64.sub (i64.const 0) (local.get 0)))
  (func (export "half32") (param f32) (result f32)
    (f32.div (local.get 0) (f32.const 2)))
  (func (export "id32") (param f32) (result f32) (local.get 0))
  (func (export "id64") (param f64) (result f64) (local.get 0))
  (func (export "swap") (param i32 i64) (result i64 i32)
    (local.get 1) (local.get 0))
  (func (export "nothing"))
  (func (export "isnull") (param externref) (result i32)
    (ref.is_null (local.get 0)))
  (memory (export "mem") 1)
  (global (export "answer") i32 (i32.const 42)))
