// Locating the suite's own files (bundled data, plots) from wherever it runs.
#pragma once
#include <stddef.h>

#include "kernels/base/fileio.h"  // make_dirs, path_basename

// The checkout the running binary belongs to (the first directory at or above
// the executable holding datasets/), without a trailing slash; "." if none.
const char *suite_home(void);
// out = suite_home()/rel if that exists, else rel unchanged (relative to cwd).
void suite_path(char *out, size_t len, const char *rel);
// Short git commit of the suite's checkout, or "unknown".
const char *suite_commit(void);
