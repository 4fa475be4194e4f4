// Portable micro-kernel written with GCC/Clang vector extensions: SSE2 on any x86-64, NEON on
// arm64. Accumulators are sized to fit the architectural register file (16 on SSE2, 32 on NEON).
#include <cstring>

#include "ukernel.h"

namespace ma {
namespace {

typedef float v4f __attribute__((vector_size(16)));

inline v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store4(float* p, v4f v) { std::memcpy(p, &v, sizeof(v)); }

template <int MR, int NV>
void ukernel(idx kc, const float* a, const float* b, float* c, idx c_rs, bool accumulate) {
  constexpr int NR = NV * 4;
  v4f acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = v4f{0.f, 0.f, 0.f, 0.f};
  for (idx p = 0; p < kc; ++p) {
    v4f bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = load4(b + v * 4);
    for (int r = 0; r < MR; ++r) {
      const float ar = a[r];
      for (int v = 0; v < NV; ++v) acc[r][v] += bv[v] * ar;
    }
    a += MR;
    b += NR;
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * c_rs;
    for (int v = 0; v < NV; ++v) {
      v4f x = acc[r][v];
      if (accumulate) x += load4(cr + v * 4);
      store4(cr + v * 4, x);
    }
  }
}

}  // namespace

const UKernel& ukernel_portable() {
#if defined(__aarch64__)
  static const UKernel k{8, 8, 128, 256, 2048, &ukernel<8, 2>, "portable", nullptr};
#else
  static const UKernel k{6, 8, 120, 256, 2048, &ukernel<6, 2>, "portable", nullptr};
#endif
  return k;
}

}  // namespace ma
