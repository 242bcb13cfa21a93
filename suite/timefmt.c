#include "suite/timefmt.h"

#include <math.h>
#include <stdio.h>

void format_duration(char *out, size_t len, double seconds) {
    if (!isfinite(seconds) || seconds < 0) seconds = 0;
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(out, len, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else snprintf(out, len, "%ldm%02lds", s / 60, s % 60);
}
