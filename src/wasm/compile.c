/* compile.c: STUB, replaced by the compiler. */
#include "wasmInt.h"
wharf_status wh_interp_compile(wharf_module *m, wharf_error *err) { (void)m; (void)err; return WHARF_ERR_NOMEM; }
void wh_interp_compiled_free(wharf_module *m) { (void)m; }
