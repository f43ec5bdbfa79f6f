;; invalid.wat: well-formed but fails validation (the body leaves no i32);
;; built with `wat2wasm --no-check`.
(module
  (func (export "main") (result i32)))
