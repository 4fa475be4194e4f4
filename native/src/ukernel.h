// Register-blocked micro-kernels: C[mr x nr] (+)= Apacked[kc x mr]^T * Bpacked[kc x nr].
#pragma once

#include "common.h"

namespace ma {

using UKernelFn = void (*)(idx kc, const float* a, const float* b, float* c, idx c_rs, bool accumulate);
// Packs one full sliver (mr rows) of a row-major A: dst[p * mr + r] = a[r * lda + p] for p < kc.
using PackAFn = void (*)(idx kc, const float* a, idx lda, float* dst);

struct UKernel {
  int mr;
  int nr;
  idx mc;  // rows of A kept packed in L2
  idx kc;  // depth of one packed panel (L1-resident B sliver)
  idx nc;  // columns of B kept packed in L3
  UKernelFn fn;
  const char* isa;
  // Optional (nullptr: gemm.cc's scalar loops). Row-major A is the common layout (MatMul
  // without transposes), and its packing is a transpose: done one element at a time it costs a
  // few percent of a large product, and more when threads split the columns of C and each
  // re-packs all of A.
  PackAFn pack_a_rm = nullptr;
};

const UKernel& ukernel_portable();
#if defined(MODELAUTO_HAVE_AVX2)
const UKernel& ukernel_avx2();
#endif
#if defined(MODELAUTO_HAVE_AVX512)
const UKernel& ukernel_avx512();
#endif

}  // namespace ma
