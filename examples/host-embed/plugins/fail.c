/* fail.c: a plugin for the host-embed example that fails, to show how the
 * host reports a plugin's error without stopping the others. */
#include "wharf_pdk.h"

WHARF_PLUGIN_FN(describe)
{
    wharf_output_str("always fails");
    return 0;
}

WHARF_PLUGIN_FN(process)
{
    return wharf_error_set("this plugin always fails");
}
