// The fused optimizer loops built for AVX-512F (called only after a CPUID check).
#define MA_OPTIM_NS avx512
#include "optim_kernels.h"

namespace ma {

void adam_range_avx512(const float* value, const float* m, const float* v, const float* grad, float* new_value,
                       float* new_m, float* new_v, idx b, idx e, const AdamParams& p) {
  avx512::adam_range(value, m, v, grad, new_value, new_m, new_v, b, e, p);
}

void adam_range_inplace_avx512(float* value, float* m, float* v, const float* grad, idx b, idx e,
                               const AdamParams& p) {
  avx512::adam_range_inplace(value, m, v, grad, b, e, p);
}

}  // namespace ma
