// Token + position embedding and its gradient.
#include "kernels/cuda/ops_cuda.h"

struct EncoderForward {
    float *out;          // (B,T,C)
    const int *tokens;   // (B,T)
    const float *wte;    // (V,C)
    const float *wpe;    // (maxT,C)
    size_t T, C;
    __device__ void operator()(size_t i) const {
        size_t c = i % C, bt = i / C, t = bt % T;
        out[i] = wte[(size_t)tokens[bt] * C + c] + wpe[t * C + c];
    }
};

void cuda_encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                          int B, int T, int C) {
    launch_elementwise((size_t)B * T * C, EncoderForward{out, tokens, wte, wpe, (size_t)T, (size_t)C});
}

// A token id may repeat within the batch, so rows of dwte collect with atomics.
struct TokenEmbeddingBackward {
    float *dwte;         // (V,C)
    const float *dout;   // (B,T,C)
    const int *tokens;   // (B,T)
    size_t C;
    __device__ void operator()(size_t i) const {
        size_t c = i % C, bt = i / C;
        atomicAdd(&dwte[(size_t)tokens[bt] * C + c], dout[i]);
    }
};

// Position t gets the sum over the batch; one thread per (t,c), no atomics.
struct PositionEmbeddingBackward {
    float *dwpe;         // (maxT,C)
    const float *dout;   // (B,T,C)
    size_t B, T, C;
    __device__ void operator()(size_t i) const {  // i = t*C + c
        float s = 0.0f;
        for (size_t b = 0; b < B; b++) s += dout[b * T * C + i];
        dwpe[i] += s;
    }
};

void cuda_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                           int B, int T, int C) {
    launch_elementwise((size_t)B * T * C, TokenEmbeddingBackward{dwte, dout, tokens, (size_t)C});
    launch_elementwise((size_t)T * C, PositionEmbeddingBackward{dwpe, dout, (size_t)B, (size_t)T, (size_t)C});
}
