// The monotonic clock, for timings, ETAs and watchdogs (never goes back on NTP steps).
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

double monotonic_seconds(void);
// Integer nanoseconds, for code that keeps a timestamp in an atomic integer.
int64_t monotonic_ns(void);

#ifdef __cplusplus
}
#endif
