// Branch-free float math that compilers vectorise (SSE2/NEON), with scalar fix-ups at the edges.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ma {

// Cephes-style expf: relative error ~1.5e-7 for x in [-87, 88]. Callers must route arguments
// outside that range (and NaN) through std::exp; see exp_in_range().
inline float exp_core(float x) {
  float t = x * 1.44269504088896341f;
  // Vector loops run every lane through here and replace the out-of-range ones afterwards: keep the
  // float-to-int conversion and the exponent arithmetic defined for them too (NaN goes to -127).
  t = t > -127.f ? t : -127.f;
  t = t < 128.f ? t : 128.f;
  const int32_t n = static_cast<int32_t>(t + (t >= 0.f ? 0.5f : -0.5f));
  const float fn = static_cast<float>(n);
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.f;
  const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

inline bool exp_in_range(float x) { return x > -87.f && x < 88.f; }

// Cephes tanhf (~2 ulp): an odd polynomial near 0, 1 - 2 / (exp(2|x|) + 1) beyond 0.625.
// Branch-free so loops vectorise; |x| is clamped to 9, where tanh already rounds to 1.
inline float tanh_approx(float x) {
  const float ax = x < 0.f ? -x : x;
  const float z = ax < 9.f ? ax : 9.f;
  const float e = exp_core(2.f * z);
  float big = 1.f - 2.f / (e + 1.f);
  big = x < 0.f ? -big : big;
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float small = p * s * x + x;
  const float r = ax > 0.625f ? big : small;
  return x != x ? x : r;
}

}  // namespace ma
