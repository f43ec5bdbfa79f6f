;; grow.wat: memory.grow against --max-memory; past the limit it must
;; return -1 to the guest, not trap.
(module
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  ;; Grows one page at a time until memory.grow fails; returns the pages
  ;; reached and the failing result.
  (func (export "grow_all") (result i32 i32)
    (local $r i32)
    (loop $more
      (local.set $r (memory.grow (i32.const 1)))
      (br_if $more (i32.ne (local.get $r) (i32.const -1))))
    (memory.size) (local.get $r)))
