/* introspect.c: read-only views of a decoded module's binary layout for
 * tools (`wharf inspect`): the section table the decoder recorded in
 * m->sections. Allocates nothing; the module stays immutable. */
#include "wasmInt.h"

uint32_t wharf_module_section_count(const wharf_module *m)
{
    return m->nsections;
}

bool wharf_module_section(const wharf_module *m, uint32_t i,
                          wharf_section_info *out)
{
    if (i >= m->nsections)
        return false;
    const struct wh_section *s = &m->sections[i];
    out->id = s->id;
    out->offset = s->off;
    out->size = s->size;
    out->name = s->id == WH_SEC_CUSTOM ? s->custom_name.ptr : NULL;
    out->name_len = s->id == WH_SEC_CUSTOM ? s->custom_name.len : 0;
    return true;
}
