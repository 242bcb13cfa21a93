// The model families, by FFKind. Each family describes itself in its FFVTable
// (impls/ff_<family>.c); adding one means adding it here too.
#include <stdio.h>
#include <string.h>

#include "impls/ff.h"

static const FFVTable *const FAMILIES[N_FF_KINDS] = {
    [FF_DENSE] = &ff_dense_vtable,
    [FF_MOT] = &ff_mot_vtable,
    [FF_EC] = &ff_ec_vtable,
    [FF_TC] = &ff_tc_vtable,
};

const FFVTable *ff_vtable(FFKind kind) {
    return (unsigned)kind < N_FF_KINDS ? FAMILIES[kind] : NULL;
}

static int same(const char *s, const char *name, size_t n) {
    return strlen(s) == n && !strncmp(s, name, n);
}

const FFVTable *ff_family_by_name(const char *name, size_t n) {
    for (int k = 0; k < N_FF_KINDS; k++)
        if (same(FAMILIES[k]->family, name, n)) return FAMILIES[k];
    return NULL;
}

const FFVTable *ff_family_by_prefix(const char *prefix, size_t n) {
    for (int k = 0; k < N_FF_KINDS; k++)
        if (same(FAMILIES[k]->name_prefix, prefix, n)) return FAMILIES[k];
    return NULL;
}

void ff_family_list(char *out, size_t outlen, int by_prefix) {
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < N_FF_KINDS && used < outlen; k++) {
        const char *sep = k == 0 ? "" : k == N_FF_KINDS - 1 ? " or " : ", ";
        const FFVTable *f = FAMILIES[k];
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", sep,
                                 by_prefix ? f->name_prefix : f->family);
    }
}
