// Text -> number: the one place the suite parses numbers from the user (command-line
// values, YAML scalars, option defaults), so checks added here hold everywhere.
#pragma once
#include <stdint.h>

// Each returns 0, or -1 when text is not entirely such a number (no leading or
// trailing space, not empty) or is out of range; floats must be finite.
int number_parse_long(const char *text, long *out);
int number_parse_int(const char *text, int *out);
int number_parse_u64(const char *text, uint64_t *out);  // no sign
int number_parse_float(const char *text, float *out);
// "1"/"true"/"yes" -> 1, "0"/"false"/"no" -> 0 (YAML spellings of a flag).
int number_parse_bool(const char *text, int *out);

// The shortest "%g" text that reads back as exactly x (at most 9 digits).
void number_format_float(float x, char *out, int len);
