// Filter packing and threading of the direct convolutions (their loops: conv_direct_impl.h).
#include "conv_direct.h"

#include <algorithm>
#include <cstring>

#include "isa_kernels.h"
#include "thread_pool.h"

namespace ma {

namespace {

// Filter rows and taps a forward tile can address (conv_direct_impl.h).
constexpr idx kMaxFilterRows = 64;
constexpr idx kMaxFilterTaps = 1024;
// Packed filter panels larger than this (floats) would not stay in L2 across a row of tiles.
constexpr idx kMaxPanel = idx(1) << 17;
// Filter-gradient accumulators larger than this (floats) would not stay in L2.
constexpr idx kMaxAccumulators = idx(1) << 16;

// Splits items over the pool when there is enough work; fn(begin, end).
template <class F>
void parallel_items(idx n, idx work_per_item, F&& fn) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  if (threads <= 1 || n < 2 || n * std::max<idx>(1, work_per_item) < (idx(1) << 16)) {
    fn(0, n);
    return;
  }
  const int tasks = static_cast<int>(std::min<idx>(n, 4 * threads));
  const idx chunk = ceil_div(n, tasks);
  pool.parallel_for(tasks, [&](int t) {
    const idx b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  });
}

void run_rows(const IsaKernels& d, const DirectConv& j) {
  const idx rows = j.batch * j.out_h;
  parallel_items(rows, j.out_w * j.K() * j.out_c, [&](idx r0, idx r1) { d.conv_rows(j, r0, r1); });
}

}  // namespace

bool conv2d_direct(const ConvGeom& g, const float* x, const float* w, float* y, const Epilogue& ep) {
  if (g.in_c < 1 || g.out_c < 1 || g.f_h < 1 || g.f_w < 1 || g.f_h > kMaxFilterRows) return false;
  if (g.f_h * g.f_w > kMaxFilterTaps) return false;
  const IsaKernels& d = isa_kernels();
  const int nr = d.pick_nr(g.out_c);
  const idx K = g.f_h * g.f_w * g.in_c, N = g.out_c, nb = ceil_div(N, nr);
  if (K * nr > kMaxPanel) return false;
  if (g.batch * g.out_h * g.out_w == 0) return true;
  thread_local AlignedBuffer packed;
  float* wp = packed.get(nb * K * nr);
  for (idx n = 0; n < nb; ++n)
    for (idx k = 0; k < K; ++k) {
      float* dst = wp + (n * K + k) * nr;
      for (idx r = 0; r < nr; ++r) {
        const idx c = n * nr + r;
        dst[r] = c < N ? w[k * N + c] : 0.f;
      }
    }
  DirectConv j;
  j.x = x;
  j.y = y;
  j.batch = g.batch;
  j.in_h = g.in_h;
  j.in_w = g.in_w;
  j.in_c = g.in_c;
  j.out_h = g.out_h;
  j.out_w = g.out_w;
  j.out_c = g.out_c;
  j.f_h = g.f_h;
  j.f_w = g.f_w;
  j.sh = g.stride_h;
  j.sw = g.stride_w;
  j.dh = g.dil_h;
  j.dw = g.dil_w;
  j.pt = g.pad_top;
  j.pl = g.pad_left;
  j.wp = wp;
  j.nr = nr;
  j.ep = ep.active() ? &ep : nullptr;
  run_rows(d, j);
  return true;
}

bool conv2d_backprop_input_direct(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  // With stride 1, dx is the forward convolution of dy with the filter flipped in space and
  // transposed in channels, padded by (filter - 1 - pad) so every tap that reaches dx is seen.
  if (g.stride_h != 1 || g.stride_w != 1 || g.dil_h != 1 || g.dil_w != 1) return false;
  if (g.in_c < 1 || g.out_c < 1 || g.f_h < 1 || g.f_w < 1 || g.f_h > kMaxFilterRows) return false;
  if (g.f_h * g.f_w > kMaxFilterTaps) return false;
  const IsaKernels& d = isa_kernels();
  const int nr = d.pick_nr(g.in_c);
  const idx K = g.f_h * g.f_w * g.out_c, N = g.in_c, nb = ceil_div(N, nr);
  if (K * nr > kMaxPanel) return false;
  if (g.batch * g.in_h * g.in_w == 0) return true;
  thread_local AlignedBuffer packed;
  float* wp = packed.get(nb * K * nr);
  for (idx n = 0; n < nb; ++n)
    for (idx kh = 0; kh < g.f_h; ++kh)
      for (idx kw = 0; kw < g.f_w; ++kw) {
        const float* src = w + ((g.f_h - 1 - kh) * g.f_w + (g.f_w - 1 - kw)) * g.in_c * g.out_c;
        for (idx oc = 0; oc < g.out_c; ++oc) {
          float* dst = wp + (n * K + (kh * g.f_w + kw) * g.out_c + oc) * nr;
          for (idx r = 0; r < nr; ++r) {
            const idx ic = n * nr + r;
            dst[r] = ic < N ? src[ic * g.out_c + oc] : 0.f;
          }
        }
      }
  DirectConv j;
  j.x = dy;
  j.y = dx;
  j.batch = g.batch;
  j.in_h = g.out_h;
  j.in_w = g.out_w;
  j.in_c = g.out_c;
  j.out_h = g.in_h;
  j.out_w = g.in_w;
  j.out_c = g.in_c;
  j.f_h = g.f_h;
  j.f_w = g.f_w;
  j.pt = g.f_h - 1 - g.pad_top;
  j.pl = g.f_w - 1 - g.pad_left;
  j.wp = wp;
  j.nr = nr;
  run_rows(d, j);
  return true;
}

bool conv2d_backprop_filter_direct(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  if (g.in_c < 1 || g.out_c < 1 || g.f_h < 1 || g.f_w < 1) return false;
  const IsaKernels& d = isa_kernels();
  const int nr = d.pick_nr(g.out_c);
  const idx K = g.f_h * g.f_w * g.in_c, N = g.out_c, npad = ceil_div(N, nr) * nr;
  const idx pixels = g.batch * g.out_h * g.out_w;
  if (K * npad > kMaxAccumulators || pixels == 0) return false;
  DirectConv j;
  j.x = x;
  j.dy = dy;
  j.batch = g.batch;
  j.in_h = g.in_h;
  j.in_w = g.in_w;
  j.in_c = g.in_c;
  j.out_h = g.out_h;
  j.out_w = g.out_w;
  j.out_c = g.out_c;
  j.f_h = g.f_h;
  j.f_w = g.f_w;
  j.sh = g.stride_h;
  j.sw = g.stride_w;
  j.dh = g.dil_h;
  j.dw = g.dil_w;
  j.pt = g.pad_top;
  j.pl = g.pad_left;
  j.nr = nr;
  // Each task sums its share of the pixels into its own accumulators; they are added in task
  // order at the end, so the result does not depend on which thread ran what.
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  int tasks = 1;
  if (threads > 1 && pixels * K * N >= (idx(1) << 18)) tasks = static_cast<int>(std::min<idx>(2 * threads, ceil_div(pixels, 64)));
  thread_local AlignedBuffer partial;
  float* acc = partial.get(tasks * K * npad);
  std::memset(acc, 0, static_cast<size_t>(tasks * K * npad) * sizeof(float));
  const bool inside = g.pad_top >= 0 && g.pad_left >= 0 && (g.out_h - 1) * g.stride_h + (g.f_h - 1) * g.dil_h - g.pad_top < g.in_h &&
                      (g.out_w - 1) * g.stride_w + (g.f_w - 1) * g.dil_w - g.pad_left < g.in_w;
  if (inside && g.pad_top == 0 && g.pad_left == 0 && g.dil_w == 1 && N % nr == 0) {
    const idx rows = g.batch * g.out_h, chunk = ceil_div(rows, tasks);
    pool.parallel_for(tasks, [&](int t) {
      const idx r0 = t * chunk, r1 = std::min(rows, r0 + chunk);
      if (r0 < r1) d.filter_grad_rows(j, r0, r1, acc + t * K * npad);
    });
  } else {
    const idx chunk = ceil_div(pixels, tasks);
    pool.parallel_for(tasks, [&](int t) {
      const idx p0 = t * chunk, p1 = std::min(pixels, p0 + chunk);
      if (p0 < p1) d.filter_grad(j, p0, p1, acc + t * K * npad);
    });
  }
  for (idx k = 0; k < K; ++k) {
    float* out = dw + k * N;
    const float* a = acc + k * npad;
    for (idx n = 0; n < N; ++n) out[n] = a[n];
    for (int t = 1; t < tasks; ++t) {
      const float* at = acc + (t * K + k) * npad;
      for (idx n = 0; n < N; ++n) out[n] += at[n];
    }
  }
  return true;
}

}  // namespace ma
