// Kernels (isa_kernels.h) built for AVX-512F (called only after a CPUID check).
#include <immintrin.h>

#include <cstdint>

#include "common.h"

#define MA_ISA_NS isa_avx512
namespace ma {
namespace isa_avx512 {
namespace {
struct VT {
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V set1(float a) { return _mm512_set1_ps(a); }
  // (a > b) ? a : b per lane (b when either is NaN), and the lanes where a > b.
  static V max_gt(V a, V b) { return _mm512_max_ps(a, b); }
  using M = __mmask16;
  static M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static V select(M m, V t, V f) { return _mm512_mask_blend_ps(m, f, t); }
  // Window positions (small integers) to and from int8.
  static void store_i8(int8_t* p, V v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
  }
  static V load_i8(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
};
// 32 zmm registers: 24 accumulators and the filter vectors.
constexpr int kFwdMR1 = 24, kFwdMR2 = 12, kBwfKR1 = 24, kBwfKR2 = 12;
}  // namespace
}  // namespace isa_avx512
}  // namespace ma
#include "conv_direct_impl.h"
#include "isa_kernels.h"
#include "pooling_impl.h"
#include "relu_grad_impl.h"

namespace ma {

const IsaKernels& isa_kernels_avx512() {
  static const IsaKernels k{"avx512",
                            &isa_avx512::pick_nr,
                            &isa_avx512::conv_rows,
                            &isa_avx512::filter_grad,
                            &isa_avx512::filter_grad_rows,
                            &isa_avx512::gemm_rows,
                            &isa_avx512::max_pool_rows,
                            &isa_avx512::max_pool_grad_images,
                            &isa_avx512::relu_grad_range,
                            &isa_avx512::relu_grad_rows};
  return k;
}

}  // namespace ma
