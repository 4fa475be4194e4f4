// Loop bodies of the fused optimizers, compiled once per instruction set (optim.cc for the
// baseline, optim_avx512.cc with -mavx512f) so that wider vectors do the divisions and square
// roots of Adam. Every operation is an IEEE float32 op in tfjs's order and no file that includes
// this is built with FMA contraction, so all builds give bit-identical results.
#pragma once

#include <cmath>

#include "optim.h"

namespace ma {
namespace MA_OPTIM_NS {

// Parameters arrive by value: read through a reference, the compiler must assume the float
// stores below may change them and cannot vectorise.
inline void adam_range(const float* __restrict value, const float* __restrict m, const float* __restrict v,
                       const float* __restrict grad, float* __restrict new_value, float* __restrict new_m,
                       float* __restrict new_v, idx b, idx e, const AdamParams p) {
  const float beta1 = p.beta1, c1 = p.one_minus_beta1, beta2 = p.beta2, c2 = p.one_minus_beta2;
  const float bc1 = p.one_minus_acc_beta1, bc2 = p.one_minus_acc_beta2, eps = p.epsilon, neg_lr = p.neg_lr;
  if (p.decay == 1.f) {
    for (idx i = b; i < e; ++i) {
      const float g = grad[i];
      const float m1 = m[i] * beta1 + g * c1;
      const float v1 = v[i] * beta2 + (g * g) * c2;
      const float den = std::sqrt(v1 / bc2) + eps;
      new_value[i] = ((m1 / bc1) / den) * neg_lr + value[i];
      new_m[i] = m1;
      new_v[i] = v1;
    }
  } else {
    const float decay = p.decay;
    for (idx i = b; i < e; ++i) {
      const float g = grad[i];
      const float m1 = m[i] * beta1 + g * c1;
      const float v1 = v[i] * beta2 + (g * g) * c2;
      const float den = std::sqrt(v1 / bc2) + eps;
      new_value[i] = ((m1 / bc1) / den) * neg_lr + value[i] * decay;
      new_m[i] = m1;
      new_v[i] = v1;
    }
  }
}

// The same update written back into value/m/v (the caller owns them exclusively): the step
// then touches four arrays instead of seven, and the three it writes are already in cache.
// Same operations in the same order as adam_range, so the results are bit-identical.
inline void adam_range_inplace(float* __restrict value, float* __restrict m, float* __restrict v,
                               const float* __restrict grad, idx b, idx e, const AdamParams p) {
  const float beta1 = p.beta1, c1 = p.one_minus_beta1, beta2 = p.beta2, c2 = p.one_minus_beta2;
  const float bc1 = p.one_minus_acc_beta1, bc2 = p.one_minus_acc_beta2, eps = p.epsilon, neg_lr = p.neg_lr;
  const float decay = p.decay;
  const bool decays = decay != 1.f;
  for (idx i = b; i < e; ++i) {
    const float g = grad[i];
    const float m1 = m[i] * beta1 + g * c1;
    const float v1 = v[i] * beta2 + (g * g) * c2;
    const float den = std::sqrt(v1 / bc2) + eps;
    const float w = decays ? value[i] * decay : value[i];
    value[i] = ((m1 / bc1) / den) * neg_lr + w;
    m[i] = m1;
    v[i] = v1;
  }
}

}  // namespace MA_OPTIM_NS
}  // namespace ma
