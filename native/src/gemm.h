// Single-precision GEMM: C = op(A) * op(B) (+ C), with an optional fused bias/activation epilogue.
// Operands are described by element strides, so transposes need no copies; A may also come
// from an implicit matrix (im2col for convolutions) through APanelSource.
#pragma once

#include "common.h"

namespace ma {

struct Epilogue {
  // bias(i, j) = bias[i * bias_rs + j * bias_cs]; a zero stride broadcasts along that axis.
  const float* bias = nullptr;
  idx bias_rs = 0;
  idx bias_cs = 0;
  Act act = Act::kLinear;
  float alpha = 0.f;  // LeakyRelu slope
  const float* prelu = nullptr;
  idx prelu_rs = 0;
  idx prelu_cs = 0;

  bool active() const { return bias != nullptr || act != Act::kLinear; }
  void apply(float* c, idx c_rs, idx i0, idx j0, idx rows, idx cols) const;
};

// Produces one packed sliver of an implicit A: rows [i0, i0 + rows) (rows <= mr) and columns
// [p0, p0 + kc), written as dst[p * mr + r], zero-filled for r >= rows.
class APanelSource {
 public:
  virtual ~APanelSource() = default;
  virtual void pack_sliver(idx i0, idx rows, idx p0, idx kc, int mr, float* dst) const = 0;
};

struct GemmProblem {
  idx M = 0, N = 0, K = 0;
  const float* A = nullptr;  // A(i, p) = A[i * a_rs + p * a_cs]
  idx a_rs = 0, a_cs = 0;
  const APanelSource* a_src = nullptr;  // replaces A when set
  idx a_row_offset = 0;                 // added to i before calling a_src
  const float* B = nullptr;             // B(p, j) = B[p * b_rs + j * b_cs]
  idx b_rs = 0, b_cs = 0;
  float* C = nullptr;  // C(i, j) = C[i * c_rs + j]
  idx c_rs = 0;
  bool accumulate = false;
  Epilogue ep;
};

// max_threads: 0 = the whole pool, 1 = run on the calling thread only.
void sgemm(const GemmProblem& g, int max_threads = 0);

// Name of the micro-kernel in use ("avx512", "avx2-fma" or "portable").
const char* gemm_isa();
// Caps the instruction set: 0 = best available, 1 = portable, 2 = AVX2. Tests use it to check
// every path on one machine; benchmarks to compare them.
void gemm_set_isa_cap(int cap);

// Activation used by fused epilogues (also by the conv kernels).
float apply_act(Act act, float v, float alpha, float prelu_w);

}  // namespace ma
