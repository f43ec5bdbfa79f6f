/* interp.c: STUB, replaced by the interpreter. */
#include "wasmInt.h"
wharf_status wh_interp_call(wh_exec *ex, wharf_func *f, wharf_slot *sp) { (void)ex; (void)f; (void)sp; return WHARF_ERR_TRAP; }
