// Max pooling loops, compiled once per instruction set; included after conv_direct_impl.h (same
// namespace, helpers and rules: internal linkage, no shared inline functions).
#pragma once

#include <cstdint>

#include "conv.h"

namespace ma {
namespace MA_ISA_NS {
namespace {

// Channels handled per pass (the winners' positions live on the stack).
constexpr idx kPoolChannels = 256;

// Channels a multiple of the vector width, winners recorded: running maxima and positions stay in
// registers across the window.
inline void max_pool_rows_vec(const ConvGeom& g, const float* x, float* y, int8_t* arg, idx r0, idx r1) {
  using V = typename VT::V;
  constexpr int W = VT::W;
  const idx C = g.in_c;
  const V neg_inf = VT::set1(-__builtin_huge_valf());
  for (idx r = r0; r < r1; ++r) {
    const idx b = r / g.out_h, oh = r % g.out_h;
    const idx h0 = imax(0, oh * g.stride_h - g.pad_top);
    const idx h1 = imin(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
    const float* xb = x + b * g.in_h * g.in_w * C;
    for (idx ow = 0; ow < g.out_w; ++ow) {
      const idx w0 = imax(0, ow * g.stride_w - g.pad_left);
      const idx w1 = imin(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
      const idx o = ((b * g.out_h + oh) * g.out_w + ow) * C;
      for (idx c = 0; c < C; c += W) {
        V best = neg_inf, pos = VT::set1(-1.f);
        float k = 0.f;
        for (idx ih = h0; ih < h1; ++ih)
          for (idx iw = w0; iw < w1; ++iw, k += 1.f) {
            const V v = VT::load(xb + (ih * g.in_w + iw) * C + c);
            pos = VT::select(VT::gt(v, best), VT::set1(k), pos);
            best = VT::max_gt(v, best);
          }
        VT::store(y + o + c, best);
        VT::store_i8(arg + o + c, pos);
      }
    }
  }
}

inline void max_pool_rows(const ConvGeom& g, const float* x, float* y, int8_t* arg, idx r0, idx r1) {
  const idx C = g.in_c;
  if (arg != nullptr && C % VT::W == 0) {
    max_pool_rows_vec(g, x, y, arg, r0, r1);
    return;
  }
  const float kNegInf = -__builtin_huge_valf();
  int32_t pos[kPoolChannels];
  for (idx r = r0; r < r1; ++r) {
    const idx b = r / g.out_h, oh = r % g.out_h;
    const idx h0 = imax(0, oh * g.stride_h - g.pad_top);
    const idx h1 = imin(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
    const float* xb = x + b * g.in_h * g.in_w * C;
    for (idx ow = 0; ow < g.out_w; ++ow) {
      const idx w0 = imax(0, ow * g.stride_w - g.pad_left);
      const idx w1 = imin(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
      const idx o = ((b * g.out_h + oh) * g.out_w + ow) * C;
      for (idx c0 = 0; c0 < C; c0 += kPoolChannels) {
        const idx cn = imin(kPoolChannels, C - c0);
        float* __restrict out = y + o + c0;
        // tfjs: start from -Infinity and take strictly greater pixels, so NaN never wins.
        for (idx c = 0; c < cn; ++c) out[c] = kNegInf;
        if (arg == nullptr) {
          for (idx ih = h0; ih < h1; ++ih)
            for (idx iw = w0; iw < w1; ++iw) {
              const float* __restrict xs = xb + (ih * g.in_w + iw) * C + c0;
              for (idx c = 0; c < cn; ++c) out[c] = xs[c] > out[c] ? xs[c] : out[c];
            }
          continue;
        }
        // The winner's position in the clipped window (row-major), -1 when nothing beats
        // -Infinity: the pixel tfjs's MaxPoolGrad routes the gradient to.
        for (idx c = 0; c < cn; ++c) pos[c] = -1;
        int32_t k = 0;
        for (idx ih = h0; ih < h1; ++ih)
          for (idx iw = w0; iw < w1; ++iw, ++k) {
            const float* __restrict xs = xb + (ih * g.in_w + iw) * C + c0;
            // masks rather than conditionals: both vectorise on every instruction set
            for (idx c = 0; c < cn; ++c) {
              const float v = xs[c], bv = out[c];
              const int32_t m = -static_cast<int32_t>(v > bv);
              out[c] = v > bv ? v : bv;
              pos[c] = (pos[c] & ~m) | (k & m);
            }
          }
        int8_t* __restrict a = arg + o + c0;
        for (idx c = 0; c < cn; ++c) a[c] = static_cast<int8_t>(pos[c]);
      }
    }
  }
}

inline void max_pool_grad_images(const ConvGeom& g, const float* dy, const int8_t* arg, float* dx, idx b0, idx b1) {
  const idx C = g.in_c, plane = g.in_h * g.in_w * C;
  const bool disjoint = g.stride_h >= g.f_h && g.stride_w >= g.f_w;
  const bool covered = disjoint && g.pad_top == 0 && g.pad_left == 0 && g.stride_h == g.f_h &&
                       g.stride_w == g.f_w && g.out_h * g.stride_h == g.in_h && g.out_w * g.stride_w == g.in_w;
  for (idx b = b0; b < b1; ++b) {
    float* dxb = dx + b * plane;
    if (!covered)
      for (idx i = 0; i < plane; ++i) dxb[i] = 0.f;
    for (idx oh = 0; oh < g.out_h; ++oh) {
      const idx h0 = imax(0, oh * g.stride_h - g.pad_top);
      const idx h1 = imin(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
      for (idx ow = 0; ow < g.out_w; ++ow) {
        const idx w0 = imax(0, ow * g.stride_w - g.pad_left);
        const idx w1 = imin(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
        const idx o = ((b * g.out_h + oh) * g.out_w + ow) * C;
        const float* __restrict d = dy + o;
        const int8_t* __restrict a = arg + o;
        if (disjoint && C % VT::W == 0) {
          using V = typename VT::V;
          const V zero = VT::zero();
          for (idx c = 0; c < C; c += VT::W) {
            const V dv = VT::load(d + c);
            const V pos = VT::load_i8(a + c);
            float k = 0.f;
            for (idx ih = h0; ih < h1; ++ih)
              for (idx iw = w0; iw < w1; ++iw, k += 1.f)
                VT::store(dxb + (ih * g.in_w + iw) * C + c, VT::select(VT::eq(pos, VT::set1(k)), dv, zero));
          }
        } else if (disjoint) {
          // every pixel of this window is written once: the winner's dy, 0 elsewhere
          int32_t k = 0;
          for (idx ih = h0; ih < h1; ++ih)
            for (idx iw = w0; iw < w1; ++iw, ++k) {
              float* __restrict out = dxb + (ih * g.in_w + iw) * C;
              for (idx c = 0; c < C; ++c) {
                const float dv = d[c];
                out[c] = static_cast<int32_t>(a[c]) == k ? dv : 0.f;
              }
            }
        } else {
          const idx ww = w1 - w0;
          for (idx c = 0; c < C; ++c) {
            const idx k = a[c];
            if (k < 0) continue;
            dxb[((h0 + k / ww) * g.in_w + (w0 + k % ww)) * C + c] += d[c];
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace MA_ISA_NS
}  // namespace ma
