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

// 8 rows of row-major A -> a packed 8-row sliver, 8 columns at a time: load an 8x8 block as eight
// rows, transpose it in registers (pairs interleaved, then quads, then 128-bit halves
// exchanged) and store it as eight packed columns. 256-bit registers are enough for 8 floats.
void pack_a_8(idx kc, const float* a, idx lda, float* dst) {
  idx p = 0;
  for (; p + 8 <= kc; p += 8) {
    const float* s = a + p;
    const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lda);
    const __m256 r2 = _mm256_loadu_ps(s + 2 * lda), r3 = _mm256_loadu_ps(s + 3 * lda);
    const __m256 r4 = _mm256_loadu_ps(s + 4 * lda), r5 = _mm256_loadu_ps(s + 5 * lda);
    const __m256 r6 = _mm256_loadu_ps(s + 6 * lda), r7 = _mm256_loadu_ps(s + 7 * lda);
    // t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], t1 the same for columns 2, 3, 6, 7.
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    // q0 = rows 0-3 of column 0 | rows 0-3 of column 4; q1 columns 1 | 5, q2 2 | 6, q3 3 | 7;
    // q4..q7 the same for rows 4-7.
    const __m256 q0 = _mm256_shuffle_ps(t0, t2, 0x44), q1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 q2 = _mm256_shuffle_ps(t1, t3, 0x44), q3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 q4 = _mm256_shuffle_ps(t4, t6, 0x44), q5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 q6 = _mm256_shuffle_ps(t5, t7, 0x44), q7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    float* d = dst + p * 8;
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(q0, q4, 0x20));
    _mm256_storeu_ps(d + 8, _mm256_permute2f128_ps(q1, q5, 0x20));
    _mm256_storeu_ps(d + 16, _mm256_permute2f128_ps(q2, q6, 0x20));
    _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(q3, q7, 0x20));
    _mm256_storeu_ps(d + 32, _mm256_permute2f128_ps(q0, q4, 0x31));
    _mm256_storeu_ps(d + 40, _mm256_permute2f128_ps(q1, q5, 0x31));
    _mm256_storeu_ps(d + 48, _mm256_permute2f128_ps(q2, q6, 0x31));
    _mm256_storeu_ps(d + 56, _mm256_permute2f128_ps(q3, q7, 0x31));
  }
  for (; p < kc; ++p)
    for (int r = 0; r < 8; ++r) dst[p * 8 + r] = a[r * lda + p];
}

}  // namespace

const UKernel& ukernel_avx512() {
  static const UKernel k{8, 32, 128, 384, 4096, &ukernel_8x32, "avx512", &pack_a_8};
  return k;
}

}  // namespace ma
