// AVX-512F micro-kernel (8x32: 16 zmm accumulators). Compiled alone with -mavx512f -mfma and
// only called after a run-time CPUID/XCR0 check.
#include <immintrin.h>

#include "ukernel.h"

namespace ma {
namespace {

void ukernel_8x32(idx kc, const float* a, const float* b, float* c, idx c_rs, bool accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
  __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  for (int r = 0; r < 8; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * c_rs), _MM_HINT_T0);
#define MA_ROW(R, C0, C1)                          \
  {                                                \
    const __m512 av = _mm512_set1_ps(a[(R)]);      \
    C0 = _mm512_fmadd_ps(av, b0, C0);              \
    C1 = _mm512_fmadd_ps(av, b1, C1);              \
  }
  for (idx p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 512), _MM_HINT_T0);
    MA_ROW(0, c00, c01)
    MA_ROW(1, c10, c11)
    MA_ROW(2, c20, c21)
    MA_ROW(3, c30, c31)
    MA_ROW(4, c40, c41)
    MA_ROW(5, c50, c51)
    MA_ROW(6, c60, c61)
    MA_ROW(7, c70, c71)
    a += 8;
    b += 32;
  }
#undef MA_ROW
#define MA_STORE(R, X0, X1)                                \
  {                                                        \
    float* cr = c + (R) * c_rs;                            \
    __m512 x0 = X0, x1 = X1;                               \
    if (accumulate) {                                      \
      x0 = _mm512_add_ps(x0, _mm512_loadu_ps(cr));         \
      x1 = _mm512_add_ps(x1, _mm512_loadu_ps(cr + 16));    \
    }                                                      \
    _mm512_storeu_ps(cr, x0);                              \
    _mm512_storeu_ps(cr + 16, x1);                         \
  }
  MA_STORE(0, c00, c01)
  MA_STORE(1, c10, c11)
  MA_STORE(2, c20, c21)
  MA_STORE(3, c30, c31)
  MA_STORE(4, c40, c41)
  MA_STORE(5, c50, c51)
  MA_STORE(6, c60, c61)
  MA_STORE(7, c70, c71)
#undef MA_STORE
}

}  // namespace

const UKernel& ukernel_avx512() {
  static const UKernel k{8, 32, 128, 384, 4096, &ukernel_8x32, "avx512"};
  return k;
}

}  // namespace ma
