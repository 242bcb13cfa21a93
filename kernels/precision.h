// Precision modes and the one place that says what each mode means (SPEC §4).
//   fp32   everything fp32.
//   mixed  bf16 operands in every matrix product except routers, fp32 accumulation,
//          fp32 parameters, gradients and AdamW moments.
//   bf16   mixed, plus bf16 routers, and parameters, gradients and AdamW moments
//          kept bf16-rounded.
// Code asks these questions instead of comparing Precision values itself.
#pragma once

typedef enum { PREC_FP32 = 0, PREC_MIXED = 1, PREC_BF16 = 2 } Precision;

// "fp32", "mixed", "bf16" and back; precision_parse returns 0, or -1 if unknown.
const char *precision_name(Precision p);
int precision_parse(const char *name, Precision *out);
#define PRECISION_CHOICES "fp32, mixed or bf16"  // for help texts and error messages

// Are the operands of matrix products (other than routers) rounded to bf16?
static inline int precision_bf16_products(Precision p) { return p != PREC_FP32; }
// Are router / controller products in bf16 too?
static inline int precision_bf16_router(Precision p) { return p == PREC_BF16; }
// Are parameters, gradients and AdamW moments kept bf16-rounded?
static inline int precision_bf16_state(Precision p) { return p == PREC_BF16; }
