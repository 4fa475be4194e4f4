// The ReLU gradient loops, compiled once per instruction set; included after
// conv_direct_impl.h (same namespace and rules).
#pragma once

namespace ma {
namespace MA_ISA_NS {
namespace {

// tfjs's Relu gradient is mul(dy, step(x)) with step(NaN) = NaN; written branch-free.
inline float relu_grad_one(float d, float v) {
  const float s = v > 0.f ? 1.f : 0.f;
  return d * (v != v ? v : s);
}

inline void relu_grad_range(const float* __restrict dy, const float* __restrict x, float* __restrict out, idx i0,
                            idx i1) {
  for (idx i = i0; i < i1; ++i) out[i] = relu_grad_one(dy[i], x[i]);
}

inline void relu_grad_rows(const float* __restrict dy, const float* __restrict x, float* __restrict out, idx cols,
                           idx r0, idx r1, double* __restrict acc) {
  for (idx r = r0; r < r1; ++r) {
    const float* d = dy + r * cols;
    const float* v = x + r * cols;
    float* o = out + r * cols;
    for (idx c = 0; c < cols; ++c) {
      const float g = relu_grad_one(d[c], v[c]);
      o[c] = g;
      acc[c] += g;
    }
  }
}

}  // namespace
}  // namespace MA_ISA_NS
}  // namespace ma
