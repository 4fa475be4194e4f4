// Kernels (isa_kernels.h) built for AVX2/FMA (called only after a CPUID check).
#include <immintrin.h>

#include <cstdint>

#include "common.h"

#define MA_ISA_NS isa_avx2
namespace ma {
namespace isa_avx2 {
namespace {
struct VT {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V set1(float a) { return _mm256_set1_ps(a); }
  // (a > b) ? a : b per lane (b when either is NaN), and the lanes where a > b.
  static V max_gt(V a, V b) { return _mm256_max_ps(a, b); }
  using M = __m256;
  static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M eq(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static V select(M m, V t, V f) { return _mm256_blendv_ps(f, t, m); }
  // Window positions (small integers) to and from int8.
  static void store_i8(int8_t* p, V v) {
    const __m256i i = _mm256_cvttps_epi32(v);
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(w, w));
  }
  static V load_i8(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
};
// 16 ymm registers: 12 accumulators, the filter vectors and one broadcast.
constexpr int kFwdMR1 = 12, kFwdMR2 = 6, kBwfKR1 = 12, kBwfKR2 = 6;
}  // namespace
}  // namespace isa_avx2
}  // namespace ma
#include "conv_direct_impl.h"
#include "isa_kernels.h"
#include "pooling_impl.h"
#include "relu_grad_impl.h"

namespace ma {

const IsaKernels& isa_kernels_avx2() {
  static const IsaKernels k{"avx2-fma",
                            &isa_avx2::pick_nr,
                            &isa_avx2::conv_rows,
                            &isa_avx2::filter_grad,
                            &isa_avx2::filter_grad_rows,
                            &isa_avx2::gemm_rows,
                            &isa_avx2::max_pool_rows,
                            &isa_avx2::max_pool_grad_images,
                            &isa_avx2::relu_grad_range,
                            &isa_avx2::relu_grad_rows};
  return k;
}

}  // namespace ma
