// Register-blocked micro-kernels: C[mr x nr] (+)= Apacked[kc x mr]^T * Bpacked[kc x nr].
#pragma once

#include "common.h"

namespace ma {

using UKernelFn = void (*)(idx kc, const float* a, const float* b, float* c, idx c_rs, bool accumulate);

struct UKernel {
  int mr;
  int nr;
  idx mc;  // rows of A kept packed in L2
  idx kc;  // depth of one packed panel (L1-resident B sliver)
  idx nc;  // columns of B kept packed in L3
  UKernelFn fn;
  const char* isa;
};

const UKernel& ukernel_portable();
#if defined(MODELAUTO_HAVE_AVX2)
const UKernel& ukernel_avx2();
#endif
#if defined(MODELAUTO_HAVE_AVX512)
const UKernel& ukernel_avx512();
#endif

}  // namespace ma
