// The CPU op table: the plain-C reference kernels of kernels/ops_cpu.h, one
// `slot##_cpu` function per slot of OPS_FUNCTION_SLOTS (kernels/ops.h).
#include "kernels/ops_cpu.h"

#include <stddef.h>

#include "kernels/routing.h"

// Host memory is the CPU table's device memory: both directions are a copy.
static void to_device_cpu(void *dst, const void *host_src, size_t bytes) {
    copy_cpu(dst, host_src, bytes);
}
static void to_host_cpu(void *host_dst, const void *src, size_t bytes) {
    copy_cpu(host_dst, src, bytes);
}

#define CPU_SLOT(slot) .slot = slot##_cpu,
const Ops ops_cpu = {
    .name = "cpu",
    OPS_FUNCTION_SLOTS(CPU_SLOT)
    .routing = &routing_ops_cpu,
};

// The list must name every function slot: those lie between `name` and `routing`.
#define COUNT_SLOT(slot) +1
_Static_assert(offsetof(Ops, routing) - offsetof(Ops, alloc) ==
                   (0 OPS_FUNCTION_SLOTS(COUNT_SLOT)) * sizeof(void (*)(void)),
               "OPS_FUNCTION_SLOTS (kernels/ops.h) must name every function slot of Ops");
