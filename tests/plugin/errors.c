/* errors.c: test plugin for the failure paths: an error message, a bare
 * non-zero return, a trap, a bad call memory access, loops that only fuel,
 * a timeout or a cancel can stop, and a function of the wrong type. */
#include "wharf_pdk.h"

WHARF_PLUGIN_FN(fail)
{
    wharf_output_str("partial output");
    return wharf_error_set("something went wrong");
}

WHARF_PLUGIN_FN(fail_code)
{
    return 7;
}

/* Sets an error and then clears it again: the call succeeds. */
WHARF_PLUGIN_FN(fail_cleared)
{
    wharf_error_set("not really");
    wharf_env_error_set(0);
    wharf_output_str("fine");
    return 0;
}

WHARF_PLUGIN_FN(trap)
{
    __builtin_trap();
}

/* Loads far outside the call memory: the host traps. */
WHARF_PLUGIN_FN(bad_load)
{
    return (int32_t)wharf_env_load_u64((uint64_t)1 << 40);
}

/* A handle that was never allocated, used as a config key. */
WHARF_PLUGIN_FN(bad_handle)
{
    return (int32_t)wharf_env_config_get(12345);
}

static volatile uint32_t spins;

WHARF_PLUGIN_FN(spin)
{
    for (;;)
        spins++;
}

/* Counts calls in wasm memory: survives between calls on one instance,
 * restarts when the instance is rebuilt (after a trap). */
static uint32_t calls;

WHARF_PLUGIN_FN(instance_calls)
{
    char c = (char)('0' + ++calls % 10);
    wharf_output(&c, 1);
    return 0;
}

__attribute__((export_name("not_a_plugin_fn"))) int32_t not_a_plugin_fn(int32_t x)
{
    return x + 1;
}
