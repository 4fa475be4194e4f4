// Fused optimizer updates: one pass over each variable instead of a dozen tfjs kernels.
// Every operation rounds to float32 in the same order as tfjs's optimizers, so the results are
// bit-identical to theirs (this file must not be compiled with FMA contraction), except that
// float32 subnormal values (below 2^-126) read and write as zero: see denormals.h.
#pragma once

#include "common.h"

namespace ma {

struct AdamParams {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float one_minus_acc_beta1, one_minus_acc_beta2;  // bias corrections
  float epsilon, neg_lr;
  float decay;  // AdamW: value *= decay first; 1 = plain Adam (skipped, to stay bit-exact)
};

void adam_update(const float* value, const float* m, const float* v, const float* grad, float* new_value,
                 float* new_m, float* new_v, idx n, const AdamParams& p);

// adam_update writing the new value and moments over the old ones.
void adam_update_inplace(float* value, float* m, float* v, const float* grad, idx n, const AdamParams& p);

// Momentum (tfjs MomentumOptimizer) and plain SGD (momentum == 0, no accumulator).
void momentum_update(const float* value, const float* acc, const float* grad, float* new_value, float* new_acc,
                     idx n, float momentum, float neg_lr, bool nesterov);
// Both may run in place (new_value == value, new_acc == acc): each element is read before it is written.
void sgd_update(const float* value, const float* grad, float* new_value, idx n, float neg_lr);

}  // namespace ma
