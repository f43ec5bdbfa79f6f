;; version.wat: a minimal WAGI guest for the swap test of tests/cli/admin.sh.
;; It answers "version A"; the test makes its B twin by replacing the A,
;; so the two modules differ (and hash differently) by one byte.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 26 bytes of CGI header and 10 of body.
  (data (i32.const 64) "Content-Type: text/plain\n\nversion A\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 36))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
