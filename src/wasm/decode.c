/* decode.c: STUB, replaced by the decoder. */
#include "wasmInt.h"
wharf_status wh_dec_module(wharf_module *m, wharf_error *err) { (void)m; (void)err; return WHARF_ERR_MALFORMED; }
