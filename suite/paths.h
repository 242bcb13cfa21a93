// Locating the suite's own files (bundled data, plots) from wherever it runs.
#pragma once
#include <stddef.h>

#include "datasets/file_util.h"  // make_dirs, path_basename

// The directory holding the `suite` executable (the repository root for a
// normal build), without a trailing slash.
const char *suite_home(void);
// out = suite_home()/rel if that exists, else rel unchanged (relative to cwd).
void suite_path(char *out, size_t len, const char *rel);
// Short git commit of the suite's checkout, or "unknown".
const char *suite_commit(void);
