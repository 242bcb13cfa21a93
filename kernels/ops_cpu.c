// The CPU op table: the plain-C reference kernels of kernels/ops_cpu.h.
#include "kernels/ops_cpu.h"

#include "kernels/routing.h"

const Ops ops_cpu = {
    .name = "cpu",
    .alloc = alloc_cpu,
    .free = free_cpu,
    .to_device = copy_cpu,
    .to_host = copy_cpu,
    .copy = copy_cpu,
    .zero = zero_cpu,
    .synchronize = synchronize_cpu,
    .memory_available = memory_available_cpu,
    .device_name = device_name_cpu,
    .gemm = gemm_cpu,
    .bias_forward = bias_forward_cpu,
    .bias_backward = bias_backward_cpu,
    .axpy = axpy_cpu,
    .fill = fill_cpu,
    .transpose01 = transpose01_cpu,
    .encoder_forward = encoder_forward_cpu,
    .encoder_backward = encoder_backward_cpu,
    .layernorm_forward = layernorm_forward_cpu,
    .layernorm_backward = layernorm_backward_cpu,
    .relu_forward = relu_forward_cpu,
    .relu_backward = relu_backward_cpu,
    .attention_forward = attention_forward_cpu,
    .attention_backward = attention_backward_cpu,
    .softmax_forward = softmax_forward_cpu,
    .softmax_backward = softmax_backward_cpu,
    .softmax_xent = softmax_xent_cpu,
    .sumsq = sumsq_cpu,
    .sum = sum_cpu,
    .adamw = adamw_cpu,
    .round_bf16 = round_bf16_cpu,
    .routing = &routing_ops_cpu,
};
