/* host.c: test plugin that imports a host function of the embedder's,
 * "shout" from module extism:host/user, which takes and returns a handle. */
#include "wharf_pdk.h"

/* A host function the test defines: takes a handle, returns a handle. */
__attribute__((import_module("extism:host/user"), import_name("shout")))
wharf_handle shout(wharf_handle in);

WHARF_PLUGIN_FN(call_host)
{
    char buf[256];
    uint64_t n = wharf_input(buf, sizeof buf);
    if (n > sizeof buf)
        return wharf_error_set("input too large");
    wharf_handle out = shout(wharf_alloc_bytes(buf, n));
    wharf_env_output_set(out, wharf_env_length(out));
    return 0;
}
