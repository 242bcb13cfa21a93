// Fallback for builds without CUDA: there is no CUDA table.
#ifndef MOT_HAVE_CUDA
#include "kernels/ops.h"

const Ops *ops_cuda(const char **why) {
    if (why) *why = "this suite was built without CUDA (nvcc was not found at build time)";
    return NULL;
}
#else
typedef int backend_c_is_empty_with_cuda;  // ISO C forbids an empty translation unit
#endif
