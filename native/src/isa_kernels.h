// Kernels built once per instruction set (kernels_avx512.cc, kernels_avx2.cc with -mavx512f /
// -mavx2, kernels_portable.cc for any CPU): direct convolutions, max pooling and the ReLU
// gradient. Callers get the best set the CPU supports (capped by set_isa_cap) from
// isa_kernels() and split the work over threads themselves.
#pragma once

#include <cstdint>

#include "conv.h"
#include "conv_direct.h"

namespace ma {

struct IsaKernels {
  const char* isa;
  // Direct convolutions (conv_direct_impl.h). Columns per register tile for out_c channels.
  int (*pick_nr)(idx out_c);
  // Output rows [r0, r1) of (batch * out_h).
  void (*conv_rows)(const DirectConv& j, idx r0, idx r1);
  // Adds the filter gradient of output pixels [p0, p1) of (batch * out_h * out_w) into
  // acc [K][nblocks * nr] (j.dy and j.x set; j.nr chosen by pick_nr).
  void (*filter_grad)(const DirectConv& j, idx p0, idx p1, float* acc);
  // The same over output rows [r0, r1), reading the image in place; only for convolutions whose
  // windows all lie inside the image, with dilation 1 across columns and out_c a multiple of nr.
  void (*filter_grad_rows)(const DirectConv& j, idx r0, idx r1, float* acc);

  // C[m0..m1) = A[m0..m1) * B with row-major A (row stride lda) and B packed like a direct
  // convolution's filter (K = rows of B); the fused epilogue (bias, activation) when ep is set.
  void (*gemm_rows)(const float* a, idx lda, const float* bp, idx K, idx N, int nr, float* c, idx ldc,
                    const Epilogue* ep, idx m0, idx m1);

  // Max pooling (pooling_impl.h) over output rows [r0, r1) of (batch * out_h); arg (optional)
  // receives each window's winner position, -1 for none.
  void (*max_pool_rows)(const ConvGeom& g, const float* x, float* y, int8_t* arg, idx r0, idx r1);
  // MaxPoolGrad from recorded winners, for images [b0, b1).
  void (*max_pool_grad_images)(const ConvGeom& g, const float* dy, const int8_t* arg, float* dx, idx b0, idx b1);

  // ReLU gradient (relu_grad_impl.h): out = dy * step(x) over [i0, i1).
  void (*relu_grad_range)(const float* dy, const float* x, float* out, idx i0, idx i1);
  // The same over rows [r0, r1) of `cols` elements, adding each column's sum into acc (double).
  void (*relu_grad_rows)(const float* dy, const float* x, float* out, idx cols, idx r0, idx r1, double* acc);
};

const IsaKernels& isa_kernels_portable();
#if defined(MODELAUTO_HAVE_AVX2)
const IsaKernels& isa_kernels_avx2();
#endif
#if defined(MODELAUTO_HAVE_AVX512)
const IsaKernels& isa_kernels_avx512();
#endif

// The best set for this CPU (and the cap set by set_isa_cap).
const IsaKernels& isa_kernels();

}  // namespace ma
