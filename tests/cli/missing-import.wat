;; missing-import.wat: imports a function no host defines.
(module
  (import "env" "nowhere" (func $nowhere))
  (func (export "main") (call $nowhere)))
