;; spin-start.wat: a start function that never returns, so instantiation
;; itself must be stopped by --fuel or --timeout.
(module
  (func $spin (loop $forever (br $forever)))
  (start $spin))
