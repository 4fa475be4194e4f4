// AVX2/FMA micro-kernel (6x16: 12 ymm accumulators). This translation unit alone is compiled
// with -mavx2 -mfma; it is only called after a run-time CPUID check.
#include <immintrin.h>

#include "ukernel.h"

namespace ma {
namespace {

void ukernel_6x16(idx kc, const float* a, const float* b, float* c, idx c_rs, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int r = 0; r < 6; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * c_rs), _MM_HINT_T0);
#define MA_STEP(P)                                                 \
  {                                                                \
    const __m256 b0 = _mm256_load_ps(b + (P) * 16);                \
    const __m256 b1 = _mm256_load_ps(b + (P) * 16 + 8);            \
    __m256 av = _mm256_broadcast_ss(a + (P) * 6 + 0);              \
    c00 = _mm256_fmadd_ps(av, b0, c00);                            \
    c01 = _mm256_fmadd_ps(av, b1, c01);                            \
    av = _mm256_broadcast_ss(a + (P) * 6 + 1);                     \
    c10 = _mm256_fmadd_ps(av, b0, c10);                            \
    c11 = _mm256_fmadd_ps(av, b1, c11);                            \
    av = _mm256_broadcast_ss(a + (P) * 6 + 2);                     \
    c20 = _mm256_fmadd_ps(av, b0, c20);                            \
    c21 = _mm256_fmadd_ps(av, b1, c21);                            \
    av = _mm256_broadcast_ss(a + (P) * 6 + 3);                     \
    c30 = _mm256_fmadd_ps(av, b0, c30);                            \
    c31 = _mm256_fmadd_ps(av, b1, c31);                            \
    av = _mm256_broadcast_ss(a + (P) * 6 + 4);                     \
    c40 = _mm256_fmadd_ps(av, b0, c40);                            \
    c41 = _mm256_fmadd_ps(av, b1, c41);                            \
    av = _mm256_broadcast_ss(a + (P) * 6 + 5);                     \
    c50 = _mm256_fmadd_ps(av, b0, c50);                            \
    c51 = _mm256_fmadd_ps(av, b1, c51);                            \
  }
  idx p = 0;
  for (; p + 4 <= kc; p += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(b + 256), _MM_HINT_T0);
    MA_STEP(0) MA_STEP(1) MA_STEP(2) MA_STEP(3)
    a += 24;
    b += 64;
  }
  for (; p < kc; ++p) {
    MA_STEP(0)
    a += 6;
    b += 16;
  }
#undef MA_STEP
#define MA_STORE(R, X0, X1)                                      \
  {                                                              \
    float* cr = c + (R) * c_rs;                                  \
    __m256 x0 = X0, x1 = X1;                                     \
    if (accumulate) {                                            \
      x0 = _mm256_add_ps(x0, _mm256_loadu_ps(cr));               \
      x1 = _mm256_add_ps(x1, _mm256_loadu_ps(cr + 8));           \
    }                                                            \
    _mm256_storeu_ps(cr, x0);                                    \
    _mm256_storeu_ps(cr + 8, x1);                                \
  }
  MA_STORE(0, c00, c01)
  MA_STORE(1, c10, c11)
  MA_STORE(2, c20, c21)
  MA_STORE(3, c30, c31)
  MA_STORE(4, c40, c41)
  MA_STORE(5, c50, c51)
#undef MA_STORE
}

}  // namespace

const UKernel& ukernel_avx2() {
  static const UKernel k{6, 16, 144, 256, 3072, &ukernel_6x16, "avx2-fma", nullptr};
  return k;
}

}  // namespace ma
