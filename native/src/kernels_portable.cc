// The portable build of the per-instruction-set kernels (GCC/Clang vector extensions: SSE2 on
// x86-64, NEON on arm64), and the run-time choice between the builds.
#include <cstdint>
#include <cstring>

#include "common.h"
#include "cpu_features.h"

#define MA_ISA_NS isa_portable
namespace ma {
namespace isa_portable {
namespace {
typedef float v4f __attribute__((vector_size(16)));
struct VT {
  using V = v4f;
  static constexpr int W = 4;
  static V zero() { return V{0.f, 0.f, 0.f, 0.f}; }
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof(v)); }
  static V bcast(const float* p) {
    const float a = *p;
    return V{a, a, a, a};
  }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V set1(float a) { return V{a, a, a, a}; }
  typedef int32_t v4i __attribute__((vector_size(16)));
  using M = v4i;
  static M gt(V a, V b) { return a > b; }
  static M eq(V a, V b) { return a == b; }
  static V select(M m, V t, V f) {
    v4i ti, fi;
    std::memcpy(&ti, &t, sizeof(t));
    std::memcpy(&fi, &f, sizeof(f));
    const v4i r = (ti & m) | (fi & ~m);
    V out;
    std::memcpy(&out, &r, sizeof(out));
    return out;
  }
  // (a > b) ? a : b per lane (b when either is NaN).
  static V max_gt(V a, V b) { return select(gt(a, b), a, b); }
  // Window positions (small integers) to and from int8.
  static void store_i8(int8_t* p, V v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<int8_t>(v[i]);
  }
  static V load_i8(const int8_t* p) {
    return V{static_cast<float>(p[0]), static_cast<float>(p[1]), static_cast<float>(p[2]), static_cast<float>(p[3])};
  }
};
#if defined(__aarch64__)
constexpr int kFwdMR1 = 24, kFwdMR2 = 12, kBwfKR1 = 24, kBwfKR2 = 12;  // 32 NEON registers
#else
constexpr int kFwdMR1 = 12, kFwdMR2 = 6, kBwfKR1 = 12, kBwfKR2 = 6;  // 16 SSE registers
#endif
}  // namespace
}  // namespace isa_portable
}  // namespace ma
#include "conv_direct_impl.h"

#include "isa_kernels.h"
#include "pooling_impl.h"
#include "relu_grad_impl.h"

namespace ma {

const IsaKernels& isa_kernels_portable() {
  static const IsaKernels k{"portable",
                            &isa_portable::pick_nr,
                            &isa_portable::conv_rows,
                            &isa_portable::filter_grad,
                            &isa_portable::filter_grad_rows,
                            &isa_portable::gemm_rows,
                            &isa_portable::max_pool_rows,
                            &isa_portable::max_pool_grad_images,
                            &isa_portable::relu_grad_range,
                            &isa_portable::relu_grad_rows};
  return k;
}

const IsaKernels& isa_kernels() {
#if defined(MODELAUTO_HAVE_AVX512)
  if (use_avx512()) return isa_kernels_avx512();
#endif
#if defined(MODELAUTO_HAVE_AVX2)
  if (use_avx2()) return isa_kernels_avx2();
#endif
  return isa_kernels_portable();
}

}  // namespace ma
