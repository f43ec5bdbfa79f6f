;; spin.wat: infinite loops, stopped only by --fuel or --timeout. `_start`
;; makes it runnable without --invoke (it imports nothing).
(module
  (func $spin (export "spin")
    (loop $forever (br $forever)))
  (func (export "_start") (call $spin)))
