#include <string.h>

#include "kernels/precision.h"

static const char *const NAMES[] = {[PREC_FP32] = "fp32", [PREC_MIXED] = "mixed", [PREC_BF16] = "bf16"};

const char *precision_name(Precision p) {
    return (unsigned)p < sizeof NAMES / sizeof NAMES[0] ? NAMES[p] : "?";
}

int precision_parse(const char *name, Precision *out) {
    for (unsigned i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (!strcmp(name, NAMES[i])) {
            *out = (Precision)i;
            return 0;
        }
    return -1;
}
