/* validate.c: STUB, replaced by the validator. */
#include "wasmInt.h"
wharf_status wh_val_module(wharf_module *m, wharf_error *err) { (void)m; (void)err; return WHARF_ERR_INVALID; }
