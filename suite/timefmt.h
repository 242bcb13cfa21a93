// Durations for progress lines and ETAs: "4m07s", or "2h13m" past an hour.
#pragma once
#include <stddef.h>

// Negative or non-finite seconds print as 0m00s.
void format_duration(char *out, size_t len, double seconds);
