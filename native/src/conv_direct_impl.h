// Direct-convolution loops, compiled once per instruction set: the including file defines
// MA_ISA_NS, and in namespace ma::MA_ISA_NS a vector type VT (V, W, zero, load, store, bcast,
// fma) and the tile limits kFwdMR1/kFwdMR2 (pixels per forward tile with 1 or 2 vectors of
// output channels) and kBwfKR1/kBwfKR2 (filter rows per filter-gradient tile).
//
// Everything here has internal linkage and calls no inline function shared with other
// translation units: the linker keeps one copy of such a function, and if it kept the one
// compiled with -mavx512f, baseline code on an older CPU would run AVX-512 instructions.
#pragma once

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(_WIN32)
#include <malloc.h>
#endif

#include "conv_direct.h"

namespace ma {
namespace MA_ISA_NS {
namespace {

// Complete unrolling before scalar replacement keeps the accumulator arrays in registers (GCC
// otherwise materialises them on the stack).
#if defined(__clang__)
#define MA_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define MA_UNROLL _Pragma("GCC unroll 64")
#else
#define MA_UNROLL
#endif

inline idx imin(idx a, idx b) { return a < b ? a : b; }
inline idx imax(idx a, idx b) { return a > b ? a : b; }
inline idx idiv_up(idx a, idx b) { return (a + b - 1) / b; }

// A grow-only scratch buffer private to this translation unit (see above).
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(); }
  float* get(idx count) {
    if (count > cap_) {
      release();
      void* p = nullptr;
      const idx want = count < 1024 ? 1024 : count;
#if defined(_WIN32)
      p = _aligned_malloc(static_cast<size_t>(want) * sizeof(float), 64);
#else
      if (posix_memalign(&p, 64, static_cast<size_t>(want) * sizeof(float)) != 0) p = nullptr;
#endif
      if (p == nullptr) throw std::bad_alloc();
      data_ = static_cast<float*>(p);
      cap_ = want;
    }
    return data_;
  }

 private:
  void release() {
#if defined(_WIN32)
    _aligned_free(data_);
#else
    std::free(data_);
#endif
    data_ = nullptr;
    cap_ = 0;
  }
  float* data_ = nullptr;
  idx cap_ = 0;
};

// Filter rows and taps (rows x columns) a forward tile can address; conv2d_direct checks them.
constexpr int kMaxFilterRows = 64;
constexpr int kMaxFilterTaps = 1024;

// y[r][0..ncols) = sum over taps t and channels ic of taps[t][r * ps + ic] * w[t * C + ic][0..nr)
// for the MR output pixels of one tile. The input values are broadcast from memory: no packing,
// which would cost as much as the arithmetic when there are few input channels. PS1: the
// pixels are adjacent (ps == 1: one input channel, stride 1), so their offsets are constants.
template <int NV, int MR, bool PS1>
struct FwdTile {
  static void run(const float* const* taps, idx ntaps, idx C, idx ps_arg, const float* w, float* y, idx ldy,
                  int ncols) {
    using V = typename VT::V;
    constexpr int W = VT::W, NR = NV * W;
    const idx ps = PS1 ? 1 : ps_arg;
    V acc[MR][NV];
    MA_UNROLL for (int r = 0; r < MR; ++r)
      MA_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = VT::zero();
    for (idx t = 0; t < ntaps; ++t) {
      const float* a = taps[t];
      for (idx ic = 0; ic < C; ++ic) {
        V b[NV];
        MA_UNROLL for (int v = 0; v < NV; ++v) b[v] = VT::load(w + v * W);
        MA_UNROLL for (int r = 0; r < MR; ++r) {
          const V av = VT::bcast(a + r * ps + ic);
          MA_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = VT::fma(av, b[v], acc[r][v]);
        }
        w += NR;
      }
    }
    if (ncols == NR) {
      MA_UNROLL for (int r = 0; r < MR; ++r)
        MA_UNROLL for (int v = 0; v < NV; ++v) VT::store(y + r * ldy + v * W, acc[r][v]);
    } else {
      alignas(64) float tmp[NR];
      MA_UNROLL for (int r = 0; r < MR; ++r) {
        MA_UNROLL for (int v = 0; v < NV; ++v) VT::store(tmp + v * W, acc[r][v]);
        std::memcpy(y + r * ldy, tmp, static_cast<size_t>(ncols) * sizeof(float));
      }
    }
  }
};

// acc[r][0..nr) += sum over pixels (i, p) of a[i * a_row + p * lda + r] * d[i * d_row + p * ldd + 0..nr),
// for KR filter rows and rows x cols pixels.
template <int NV, int KR>
struct BwfTile {
  static void run(const float* a, idx lda, idx a_row, const float* d, idx ldd, idx d_row, idx rows, idx cols,
                  float* acc, idx ldacc) {
    using V = typename VT::V;
    constexpr int W = VT::W;
    V c[KR][NV];
    MA_UNROLL for (int r = 0; r < KR; ++r)
      MA_UNROLL for (int v = 0; v < NV; ++v) c[r][v] = VT::load(acc + r * ldacc + v * W);
    for (idx i = 0; i < rows; ++i) {
      const float* ai = a + i * a_row;
      const float* di = d + i * d_row;
      for (idx p = 0; p < cols; ++p) {
        V b[NV];
        MA_UNROLL for (int v = 0; v < NV; ++v) b[v] = VT::load(di + p * ldd + v * W);
        const float* ap = ai + p * lda;
        MA_UNROLL for (int r = 0; r < KR; ++r) {
          const V av = VT::bcast(ap + r);
          MA_UNROLL for (int v = 0; v < NV; ++v) c[r][v] = VT::fma(av, b[v], c[r][v]);
        }
      }
    }
    MA_UNROLL for (int r = 0; r < KR; ++r)
      MA_UNROLL for (int v = 0; v < NV; ++v) VT::store(acc + r * ldacc + v * W, c[r][v]);
  }
};

using FwdFn = void (*)(const float* const*, idx, idx, idx, const float*, float*, idx, int);
using BwfFn = void (*)(const float*, idx, idx, const float*, idx, idx, idx, idx, float*, idx);

template <int NV, bool PS1, size_t... I>
const FwdFn* fwd_table(std::index_sequence<I...>) {
  static const FwdFn table[] = {&FwdTile<NV, static_cast<int>(I) + 1, PS1>::run...};
  return table;
}
template <int NV, size_t... I>
const BwfFn* bwf_table(std::index_sequence<I...>) {
  static const BwfFn table[] = {&BwfTile<NV, static_cast<int>(I) + 1>::run...};
  return table;
}

inline int pick_nr(idx out_c) { return out_c <= VT::W ? VT::W : 2 * VT::W; }

inline void conv_rows(const DirectConv& j, idx r0, idx r1) {
  const idx C = j.in_c, H = j.in_h, Wd = j.in_w, K = j.f_h * j.f_w * C, N = j.out_c, NR = j.nr;
  const idx nb = idiv_up(N, NR);
  const bool two = NR == 2 * VT::W;
  const int mr_max = two ? kFwdMR2 : kFwdMR1;
  // entry mr - 1 runs a tile of mr pixels
  const bool ps1 = j.sw * C == 1;
  const FwdFn* table = two ? (ps1 ? fwd_table<2, true>(std::make_index_sequence<kFwdMR2>{})
                                  : fwd_table<2, false>(std::make_index_sequence<kFwdMR2>{}))
                           : (ps1 ? fwd_table<1, true>(std::make_index_sequence<kFwdMR1>{})
                                  : fwd_table<1, false>(std::make_index_sequence<kFwdMR1>{}));
  // Input columns one output row reads, counted from the first pixel of the leftmost window.
  const idx span = (j.out_w - 1) * j.sw + (j.f_w - 1) * j.dw + 1;
  // Rows that need zero padding at either side are copied into a padded scratch row; the others
  // are read in place.
  const bool hpad = j.pl > 0 || span - j.pl > Wd;
  thread_local Scratch scratch_buf;
  float* scratch = scratch_buf.get(j.f_h * span * C + 16);
  const float* rows[kMaxFilterRows];
  const float* taps[kMaxFilterTaps];
  const idx tiles = idiv_up(j.out_w, mr_max);
  for (idx r = r0; r < r1; ++r) {
    const idx b = r / j.out_h, oh = r % j.out_h;
    // Filter rows that fall outside the image contribute nothing: skip them (ih grows with kh,
    // so the rows inside are one range [kh0, kh1)).
    idx kh0 = j.f_h, kh1 = 0;
    for (idx kh = 0; kh < j.f_h; ++kh) {
      const idx ih = oh * j.sh - j.pt + kh * j.dh;
      if (ih < 0 || ih >= H) continue;
      kh0 = imin(kh0, kh);
      kh1 = kh + 1;
      if (!hpad) {
        rows[kh] = j.x + ((b * H + ih) * Wd - j.pl) * C;
        continue;
      }
      // scratch column q holds input column q - pl
      float* s = scratch + kh * span * C;
      const idx q0 = imin(span, imax(0, j.pl));
      const idx q1 = imax(q0, imin(span, Wd + j.pl));
      std::memset(s, 0, static_cast<size_t>(q0 * C) * sizeof(float));
      std::memcpy(s + q0 * C, j.x + ((b * H + ih) * Wd + (q0 - j.pl)) * C,
                  static_cast<size_t>((q1 - q0) * C) * sizeof(float));
      std::memset(s + q1 * C, 0, static_cast<size_t>((span - q1) * C) * sizeof(float));
      rows[kh] = s;
    }
    if (kh1 <= kh0) kh0 = kh1 = 0;  // no row inside: the tiles see no taps and write zeros
    const idx row_taps = (kh1 - kh0) * j.f_w;
    const float* wrow = j.wp + kh0 * j.f_w * C * NR;
    float* yrow = j.y + r * j.out_w * N;
    // balanced tiles: out_w = 26 with 12-pixel tiles runs 9 + 9 + 8, not 12 + 12 + 2
    idx ow = 0;
    for (idx t = 0; t < tiles; ++t) {
      const idx mr = (j.out_w - ow) / (tiles - t) + ((j.out_w - ow) % (tiles - t) != 0 ? 1 : 0);
      for (idx kh = kh0; kh < kh1; ++kh)
        for (idx kw = 0; kw < j.f_w; ++kw)
          taps[(kh - kh0) * j.f_w + kw] = rows[kh] + (ow * j.sw + kw * j.dw) * C;
      for (idx n = 0; n < nb; ++n) {
        const int ncols = static_cast<int>(imin(NR, N - n * NR));
        table[mr - 1](taps, row_taps, C, j.sw * C, wrow + n * K * NR, yrow + ow * N + n * NR, N, ncols);
        if (j.ep != nullptr) j.ep->apply(j.y, N, r * j.out_w + ow, n * NR, mr, ncols);
      }
      ow += mr;
    }
  }
}

// A GEMM as a 1x1 convolution over the rows of A: the tile broadcasts A's values straight from
// its rows, so A is never packed (packing costs as much as the arithmetic when N is small).
inline void gemm_rows(const float* a, idx lda, const float* bp, idx K, idx N, int nr, float* c, idx ldc,
                      const Epilogue* ep, idx m0, idx m1) {
  const idx NR = nr, nb = idiv_up(N, NR);
  const bool two = NR == 2 * VT::W;
  const int mr_max = two ? kFwdMR2 : kFwdMR1;
  const bool ps1 = lda == 1;
  const FwdFn* table = two ? (ps1 ? fwd_table<2, true>(std::make_index_sequence<kFwdMR2>{})
                                  : fwd_table<2, false>(std::make_index_sequence<kFwdMR2>{}))
                           : (ps1 ? fwd_table<1, true>(std::make_index_sequence<kFwdMR1>{})
                                  : fwd_table<1, false>(std::make_index_sequence<kFwdMR1>{}));
  const idx rows = m1 - m0, tiles = idiv_up(rows, mr_max);
  idx m = m0;
  for (idx t = 0; t < tiles; ++t) {
    const idx left = m1 - m;
    const idx mr = left / (tiles - t) + (left % (tiles - t) != 0 ? 1 : 0);
    const float* tap = a + m * lda;
    for (idx n = 0; n < nb; ++n) {
      const int ncols = static_cast<int>(imin(NR, N - n * NR));
      table[mr - 1](&tap, 1, K, lda, bp + n * K * NR, c + m * ldc + n * NR, ldc, ncols);
      if (ep != nullptr) ep->apply(c, ldc, m, n * NR, mr, ncols);
    }
    m += mr;
  }
}

inline void filter_grad(const DirectConv& j, idx p0, idx p1, float* acc) {
  const idx C = j.in_c, H = j.in_h, Wd = j.in_w, K = j.f_h * j.f_w * C, N = j.out_c, NR = j.nr;
  const idx nb = idiv_up(N, NR), npad = nb * NR;
  const bool two = NR == 2 * VT::W;
  const int kr_max = two ? kBwfKR2 : kBwfKR1;
  const BwfFn* table = two ? bwf_table<2>(std::make_index_sequence<kBwfKR2>{})
                           : bwf_table<1>(std::make_index_sequence<kBwfKR1>{});
  // Pixels per chunk: their im2col rows (64 KB at most) stay in cache while every filter tile
  // streams over them.
  const idx P = imax(16, imin(256, 16384 / imax(1, K)));
  thread_local Scratch a_buf, d_buf;
  float* A = a_buf.get(P * K);
  const bool pack_dy = N % NR != 0;
  float* D = pack_dy ? d_buf.get(P * npad) : nullptr;
  for (idx c0 = p0; c0 < p1; c0 += P) {
    const idx np = imin(P, p1 - c0);
    // pixel coordinates advance incrementally: no divisions per pixel
    idx ow = c0 % j.out_w, oh = (c0 / j.out_w) % j.out_h, b = c0 / (j.out_w * j.out_h);
    for (idx q = 0; q < np; ++q) {
      float* dst = A + q * K;
      const idx iw0 = ow * j.sw - j.pl;
      const bool cols_ok = iw0 >= 0 && iw0 + (j.f_w - 1) * j.dw < Wd;
      for (idx kh = 0; kh < j.f_h; ++kh) {
        const idx ih = oh * j.sh - j.pt + kh * j.dh;
        if (ih < 0 || ih >= H) {
          for (idx k = 0; k < j.f_w * C; ++k) dst[k] = 0.f;
          dst += j.f_w * C;
          continue;
        }
        const float* img_row = j.x + (b * H + ih) * Wd * C;
        if (cols_ok) {
          for (idx kw = 0; kw < j.f_w; ++kw, dst += C) {
            const float* s = img_row + (iw0 + kw * j.dw) * C;
            for (idx c = 0; c < C; ++c) dst[c] = s[c];
          }
        } else {
          for (idx kw = 0; kw < j.f_w; ++kw, dst += C) {
            const idx iw = iw0 + kw * j.dw;
            if (iw >= 0 && iw < Wd) {
              const float* s = img_row + iw * C;
              for (idx c = 0; c < C; ++c) dst[c] = s[c];
            } else {
              for (idx c = 0; c < C; ++c) dst[c] = 0.f;
            }
          }
        }
      }
      if (++ow == j.out_w) {
        ow = 0;
        if (++oh == j.out_h) {
          oh = 0;
          ++b;
        }
      }
    }
    const float* d = j.dy + c0 * N;
    idx ldd = N;
    if (pack_dy) {
      for (idx q = 0; q < np; ++q) {
        std::memcpy(D + q * npad, d + q * N, static_cast<size_t>(N) * sizeof(float));
        std::memset(D + q * npad + N, 0, static_cast<size_t>(npad - N) * sizeof(float));
      }
      d = D;
      ldd = npad;
    }
    for (idx n = 0; n < nb; ++n)
      for (idx k0 = 0; k0 < K; k0 += kr_max) {
        const idx kr = imin(kr_max, K - k0);
        table[kr - 1](A + k0, K, np * K, d + n * NR, ldd, np * ldd, 1, np, acc + k0 * npad + n * NR, npad);
      }
  }
}

// The filter gradient when every window lies inside the image, taps are adjacent (dilation 1
// across columns) and out_c is a multiple of the tile width: the filter rows of one tap row kh
// are a contiguous run of f_w * in_c input values, so tiles read the image in place, a whole
// image's output rows [r0, r1) of (batch * out_h) at a time, with no packing.
inline void filter_grad_rows(const DirectConv& j, idx r0, idx r1, float* acc) {
  const idx C = j.in_c, H = j.in_h, Wd = j.in_w, K = j.f_h * j.f_w * C, N = j.out_c, NR = j.nr;
  const idx nb = idiv_up(N, NR), npad = nb * NR, run = j.f_w * C;
  const bool two = NR == 2 * VT::W;
  const int kr_max = two ? kBwfKR2 : kBwfKR1;
  const BwfFn* table = two ? bwf_table<2>(std::make_index_sequence<kBwfKR2>{})
                           : bwf_table<1>(std::make_index_sequence<kBwfKR1>{});
  (void)K;
  for (idx r = r0; r < r1;) {
    const idx b = r / j.out_h, oh0 = r % j.out_h, rows = imin(r1 - r, j.out_h - oh0);
    const float* d = j.dy + r * j.out_w * N;
    for (idx kh = 0; kh < j.f_h; ++kh) {
      const float* a = j.x + ((b * H + oh0 * j.sh - j.pt + kh * j.dh) * Wd - j.pl) * C;
      for (idx n = 0; n < nb; ++n)
        for (idx k0 = 0; k0 < run; k0 += kr_max) {
          const idx kr = imin(kr_max, run - k0);
          table[kr - 1](a + k0, j.sw * C, j.sh * Wd * C, d + n * NR, N, j.out_w * N, rows, j.out_w,
                        acc + (kh * run + k0) * npad + n * NR, npad);
        }
    }
    r += rows;
  }
}

}  // namespace
}  // namespace MA_ISA_NS
}  // namespace ma
