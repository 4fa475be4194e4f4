#include "conv.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "conv_direct.h"
#include "isa_kernels.h"
#include "thread_pool.h"

namespace ma {
namespace {

// The im2col matrix of a convolution, never materialised: row = (b, oh, ow),
// col = (kh, kw, c). Entry = src[b, oh*sr + kh*dr - pr, ow*sc + kw*dc - pc, c], or 0 outside.
// With `transposed`, rows and columns swap roles (filter gradients).
//
// A packed sliver covers a range of im2col columns. That range is cut once into segments that
// are contiguous in the source (one filter row: all its taps' channels when dc == 1), so each
// im2col row costs one bounds check and one short copy per segment.
struct Im2col : APanelSource {
  const float* src;
  idx src_h, src_w, ch;
  idx out_h, out_w;
  idx f_w;
  idx sr, sc, dr, dc, pr, pc;
  bool transposed = false;

  struct Seg {
    idx off;     // first column of the segment, relative to the range start
    idx len;     // columns in the segment
    idx dh;      // kh * dr
    idx kw0;     // first tap column
    idx kw1;     // last tap column
    idx c0;      // first channel
  };
  static constexpr int kMaxSegs = 64;

  // Splits columns [col0, col0 + count) into segments; returns how many.
  int segments(idx col0, idx count, Seg* out) const {
    int n = 0;
    idx col = col0;
    const idx end = col0 + count;
    while (col < end) {
      const idx c = col % ch, khw = col / ch, kw = khw % f_w, kh = khw / f_w;
      // contiguous source span: the rest of this tap's channels, plus following taps of the
      // same filter row when taps are adjacent (dc == 1)
      idx len = dc == 1 ? (f_w - kw) * ch - c : ch - c;
      len = std::min(len, end - col);
      out[n++] = Seg{col - col0, len, kh * dr, kw, kw + (c + len - 1) / ch, c};
      col += len;
      if (n == kMaxSegs && col < end) {
        // never happens for slivers (<= 32 columns) or kc blocks of real filters; stay safe
        return -1;
      }
    }
    return n;
  }

  // Copies the segments of one im2col row (image `img`, window corner (bh, bw)) to
  // dst[col * step]; columns outside the image read as 0.
  void copy_row(const float* img, idx bh, idx bw, const Seg* segs, int nseg, float* dst, idx step) const {
    const idx H = src_h, W = src_w, C = ch;
    for (int k = 0; k < nseg; ++k) {
      const Seg& g = segs[k];
      float* d = dst + g.off * step;
      const idx ih = bh + g.dh;
      const idx iw0 = bw + g.kw0 * dc;
      const idx iw1 = bw + g.kw1 * dc;
      if (ih >= 0 && ih < H && iw0 >= 0 && iw1 < W) {
        // one contiguous source span (a single tap when dc != 1)
        const float* s = img + (ih * W + iw0) * C + g.c0;
        if (step == 1) {
          for (idx q = 0; q < g.len; ++q) d[q] = s[q];
        } else {
          for (idx q = 0; q < g.len; ++q) d[q * step] = s[q];
        }
      } else if (ih < 0 || ih >= H) {
        for (idx q = 0; q < g.len; ++q) d[q * step] = 0.f;
      } else {
        idx c = g.c0, kw = g.kw0;
        for (idx q = 0; q < g.len; ++q) {
          const idx iw = bw + kw * dc;
          d[q * step] = (iw >= 0 && iw < W) ? img[(ih * W + iw) * C + c] : 0.f;
          if (++c == C) {
            c = 0;
            ++kw;
          }
        }
      }
    }
  }

  // All rows of the sliver lie in one output row, at consecutive columns: for every im2col
  // column they read one source row at a fixed stride, so whole columns are copied at once.
  void pack_one_row(const float* img, idx bh, idx bw, idx rows, idx p0, idx kc, int mr, float* dst) const {
    const idx H = src_h, W = src_w, C = ch, step = sc * ch, FW = f_w;
    idx c = p0 % C, khw = p0 / C, kw = khw % FW, kh = khw / FW;
    for (idx p = 0; p < kc; ++p) {
      float* d = dst + p * mr;
      const idx ih = bh + kh * dr, iw0 = bw + kw * dc, iw1 = iw0 + (rows - 1) * sc;
      if (ih >= 0 && ih < H && iw0 >= 0 && iw1 < W) {
        const float* in = img + (ih * W + iw0) * C + c;
        for (idx r = 0; r < rows; ++r) d[r] = in[r * step];
      } else if (ih < 0 || ih >= H) {
        for (idx r = 0; r < rows; ++r) d[r] = 0.f;
      } else {
        const float* in = img + ih * W * C + c;
        for (idx r = 0; r < rows; ++r) {
          const idx iw = iw0 + r * sc;
          d[r] = (iw >= 0 && iw < W) ? in[iw * C] : 0.f;
        }
      }
      for (idx r = rows; r < mr; ++r) d[r] = 0.f;
      if (++c == C) {
        c = 0;
        if (++kw == FW) {
          kw = 0;
          ++kh;
        }
      }
    }
  }

  void pack_sliver(idx i0, idx rows, idx p0, idx kc, int mr, float* dst) const override {
    Seg segs[kMaxSegs];
    const idx plane = src_h * src_w * ch;
    if (!transposed) {
      // rows = output pixels, columns [p0, p0 + kc)
      idx ow = i0 % out_w, t = i0 / out_w, oh = t % out_h, b = t / out_h;
      if (ow + rows <= out_w) {
        pack_one_row(src + b * plane, oh * sr - pr, ow * sc - pc, rows, p0, kc, mr, dst);
        return;
      }
      const int nseg = segments(p0, kc, segs);
      for (idx r = 0; r < rows; ++r) {
        const float* img = src + b * plane;
        if (nseg >= 0) {
          copy_row(img, oh * sr - pr, ow * sc - pc, segs, nseg, dst + r, mr);
        } else {
          for (idx q = 0; q < kc; q += kMaxSegs / 2) {
            const idx cnt = std::min<idx>(kMaxSegs / 2, kc - q);
            const int n2 = segments(p0 + q, cnt, segs);
            copy_row(img, oh * sr - pr, ow * sc - pc, segs, n2, dst + q * mr + r, mr);
          }
        }
        if (++ow == out_w) {
          ow = 0;
          if (++oh == out_h) {
            oh = 0;
            ++b;
          }
        }
      }
      for (idx r = rows; r < mr; ++r)
        for (idx p = 0; p < kc; ++p) dst[p * mr + r] = 0.f;
      return;
    }
    // transposed: GEMM rows = im2col columns [i0, i0 + rows), GEMM columns = output pixels
    const int nseg = segments(i0, rows, segs);
    idx ow = p0 % out_w, t = p0 / out_w, oh = t % out_h, b = t / out_h;
    for (idx p = 0; p < kc; ++p) {
      float* d = dst + p * mr;
      copy_row(src + b * plane, oh * sr - pr, ow * sc - pc, segs, nseg, d, 1);
      for (idx r = rows; r < mr; ++r) d[r] = 0.f;
      if (++ow == out_w) {
        ow = 0;
        if (++oh == out_h) {
          oh = 0;
          ++b;
        }
      }
    }
  }
};

Im2col forward_im2col(const ConvGeom& g, const float* x) {
  Im2col a;
  a.src = x;
  a.src_h = g.in_h;
  a.src_w = g.in_w;
  a.ch = g.in_c;
  a.out_h = g.out_h;
  a.out_w = g.out_w;
  a.f_w = g.f_w;
  a.sr = g.stride_h;
  a.sc = g.stride_w;
  a.dr = g.dil_h;
  a.dc = g.dil_w;
  a.pr = g.pad_top;
  a.pc = g.pad_left;
  return a;
}

template <class F>
void parallel_rows(idx rows, idx work_per_row, F&& fn) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  if (threads <= 1 || rows < 2 || rows * std::max<idx>(1, work_per_row) < (1 << 15)) {
    fn(0, rows);
    return;
  }
  const int tasks = static_cast<int>(std::min<idx>(rows, 4 * threads));
  const idx chunk = ceil_div(rows, tasks);
  pool.parallel_for(tasks, [&](int t) {
    const idx b = t * chunk, e = std::min(rows, b + chunk);
    if (b < e) fn(b, e);
  });
}

}  // namespace

void conv2d(const ConvGeom& g, const float* x, const float* w, float* y, const Epilogue& ep) {
  GemmProblem p;
  p.M = g.batch * g.out_h * g.out_w;
  p.N = g.out_c;
  p.K = g.f_h * g.f_w * g.in_c;
  p.B = w;
  p.b_rs = g.out_c;
  p.b_cs = 1;
  p.C = y;
  p.c_rs = g.out_c;
  p.ep = ep;
  const bool pointwise = g.f_h == 1 && g.f_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
                         g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
  if (!pointwise && conv2d_direct(g, x, w, y, ep)) return;
  Im2col a = forward_im2col(g, x);
  if (pointwise) {
    p.A = x;
    p.a_rs = g.in_c;
    p.a_cs = 1;
  } else {
    p.a_src = &a;
  }
  sgemm(p);
}

void conv2d_backprop_input(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  // col2im: dcol[(b, oh, ow), (kh, kw, ic)] = sum over oc of dy[b, oh, ow, oc] * W[kh, kw, ic, oc]
  // is a plain GEMM (dy times the filter transposed); each dcol row is then added into the
  // input pixels its window covers. No work is spent on the zeros a strided gather would read.
  if (conv2d_backprop_input_direct(g, dy, w, dx)) return;
  const idx taps = g.f_h * g.f_w, cols = taps * g.in_c, img_rows = g.out_h * g.out_w;
  const idx img_size = g.in_h * g.in_w * g.in_c;
  if (img_rows == 0 || cols == 0) {
    std::fill(dx, dx + g.batch * img_size, 0.f);
    return;
  }
  // Bound the scratch matrix to ~16 MB: whole images per chunk so the scatter can run per image.
  const idx per_chunk = std::max<idx>(1, (idx(4) << 20) / (img_rows * cols));
  thread_local AlignedBuffer scratch;
  float* dcol = scratch.get(std::min(per_chunk, g.batch) * img_rows * cols);
  for (idx b0 = 0; b0 < g.batch; b0 += per_chunk) {
    const idx nb = std::min(per_chunk, g.batch - b0);
    GemmProblem p;
    p.M = nb * img_rows;
    p.N = cols;
    p.K = g.out_c;
    p.A = dy + b0 * img_rows * g.out_c;
    p.a_rs = g.out_c;
    p.a_cs = 1;
    p.B = w;
    p.b_rs = 1;
    p.b_cs = g.out_c;
    p.C = dcol;
    p.c_rs = cols;
    sgemm(p);
    parallel_rows(nb, img_rows * cols, [&](idx i0, idx i1) {
      for (idx i = i0; i < i1; ++i) {
        float* img = dx + (b0 + i) * img_size;
        std::fill(img, img + img_size, 0.f);
        const float* src = dcol + i * img_rows * cols;
        for (idx oh = 0; oh < g.out_h; ++oh)
          for (idx ow = 0; ow < g.out_w; ++ow, src += cols)
            for (idx kh = 0; kh < g.f_h; ++kh) {
              const idx ih = oh * g.stride_h - g.pad_top + kh * g.dil_h;
              if (ih < 0 || ih >= g.in_h) continue;
              for (idx kw = 0; kw < g.f_w; ++kw) {
                const idx iw = ow * g.stride_w - g.pad_left + kw * g.dil_w;
                if (iw < 0 || iw >= g.in_w) continue;
                float* o = img + (ih * g.in_w + iw) * g.in_c;
                const float* s = src + (kh * g.f_w + kw) * g.in_c;
                for (idx ch = 0; ch < g.in_c; ++ch) o[ch] += s[ch];
              }
            }
      }
    });
  }
}

void conv2d_backprop_filter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  if (conv2d_backprop_filter_direct(g, x, dy, dw)) return;
  // dW[(kh, kw, ic), oc] = im2col(x)^T * dy. The reduction runs over every output pixel, so
  // threads split the pixels and add their partial filters at the end.
  Im2col a = forward_im2col(g, x);
  a.transposed = true;
  const idx M = g.f_h * g.f_w * g.in_c, N = g.out_c, K = g.batch * g.out_h * g.out_w;
  GemmProblem p;
  p.M = M;
  p.N = N;
  p.a_src = &a;
  p.b_rs = N;
  p.b_cs = 1;
  p.c_rs = N;
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  const idx min_rows = 256;
  const int tasks = static_cast<int>(std::max<idx>(1, std::min<idx>(threads, K / min_rows)));
  if (tasks <= 1 || M * N >= 64 * 256) {
    p.K = K;
    p.B = dy;
    p.C = dw;
    sgemm(p);
    return;
  }
  std::vector<float> partial(static_cast<size_t>((tasks - 1) * M * N));
  const idx chunk = ceil_div(K, tasks);
  pool.parallel_for(tasks, [&](int t) {
    const idx k0 = t * chunk, k1 = std::min(K, k0 + chunk);
    GemmProblem s = p;
    // Column offset into the transposed im2col: shift the packer's view of p.
    Im2col part = a;
    struct Shifted : APanelSource {
      const Im2col* base;
      idx shift;
      void pack_sliver(idx i0, idx rows, idx p0, idx kc, int mr, float* dst) const override {
        base->pack_sliver(i0, rows, p0 + shift, kc, mr, dst);
      }
    } shifted;
    shifted.base = &part;
    shifted.shift = k0;
    s.a_src = &shifted;
    s.K = std::max<idx>(0, k1 - k0);
    s.B = dy + k0 * N;
    s.C = t == 0 ? dw : partial.data() + (t - 1) * M * N;
    sgemm(s, 1);
  });
  for (int t = 1; t < tasks; ++t) {
    const float* src = partial.data() + (t - 1) * M * N;
    for (idx i = 0; i < M * N; ++i) dw[i] += src[i];
  }
}

void depthwise_conv2d(const ConvGeom& g, const float* x, const float* w, float* y, const Epilogue& ep) {
  const idx C = g.in_c, mult = g.out_c / g.in_c, OC = g.out_c;
  parallel_rows(g.batch * g.out_h, g.out_w * OC * g.f_h * g.f_w, [&](idx r0, idx r1) {
    for (idx r = r0; r < r1; ++r) {
      const idx b = r / g.out_h, oh = r % g.out_h;
      for (idx ow = 0; ow < g.out_w; ++ow) {
        float* out = y + ((b * g.out_h + oh) * g.out_w + ow) * OC;
        std::fill(out, out + OC, 0.f);
        for (idx kh = 0; kh < g.f_h; ++kh) {
          const idx ih = oh * g.stride_h - g.pad_top + kh * g.dil_h;
          if (ih < 0 || ih >= g.in_h) continue;
          for (idx kw = 0; kw < g.f_w; ++kw) {
            const idx iw = ow * g.stride_w - g.pad_left + kw * g.dil_w;
            if (iw < 0 || iw >= g.in_w) continue;
            const float* xs = x + ((b * g.in_h + ih) * g.in_w + iw) * C;
            const float* ws = w + (kh * g.f_w + kw) * OC;
            if (mult == 1) {
              for (idx c = 0; c < C; ++c) out[c] += xs[c] * ws[c];
            } else {
              for (idx c = 0; c < C; ++c)
                for (idx q = 0; q < mult; ++q) out[c * mult + q] += xs[c] * ws[c * mult + q];
            }
          }
        }
        const idx row = (b * g.out_h + oh) * g.out_w + ow;
        if (ep.active()) ep.apply(y, OC, row, 0, 1, OC);
      }
    }
  });
}

void depthwise_backprop_input(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const idx C = g.in_c, mult = g.out_c / g.in_c, OC = g.out_c;
  parallel_rows(g.batch, g.in_h * g.in_w * OC * g.f_h * g.f_w, [&](idx b0, idx b1) {
    for (idx b = b0; b < b1; ++b) {
      float* dxb = dx + b * g.in_h * g.in_w * C;
      std::fill(dxb, dxb + g.in_h * g.in_w * C, 0.f);
      for (idx oh = 0; oh < g.out_h; ++oh)
        for (idx ow = 0; ow < g.out_w; ++ow) {
          const float* d = dy + ((b * g.out_h + oh) * g.out_w + ow) * OC;
          for (idx kh = 0; kh < g.f_h; ++kh) {
            const idx ih = oh * g.stride_h - g.pad_top + kh * g.dil_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (idx kw = 0; kw < g.f_w; ++kw) {
              const idx iw = ow * g.stride_w - g.pad_left + kw * g.dil_w;
              if (iw < 0 || iw >= g.in_w) continue;
              float* o = dxb + (ih * g.in_w + iw) * C;
              const float* ws = w + (kh * g.f_w + kw) * OC;
              if (mult == 1) {
                for (idx c = 0; c < C; ++c) o[c] += d[c] * ws[c];
              } else {
                for (idx c = 0; c < C; ++c) {
                  float s = 0.f;
                  for (idx q = 0; q < mult; ++q) s += d[c * mult + q] * ws[c * mult + q];
                  o[c] += s;
                }
              }
            }
          }
        }
    }
  });
}

void depthwise_backprop_filter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const idx C = g.in_c, mult = g.out_c / g.in_c, OC = g.out_c, FS = g.f_h * g.f_w * OC;
  ThreadPool& pool = ThreadPool::instance();
  const int tasks = static_cast<int>(std::max<idx>(1, std::min<idx>(pool.threads(), g.batch)));
  std::vector<float> partial(static_cast<size_t>(tasks * FS), 0.f);
  const idx chunk = ceil_div(g.batch, tasks);
  pool.parallel_for(tasks, [&](int t) {
    float* acc = partial.data() + t * FS;
    for (idx b = t * chunk; b < std::min(g.batch, (t + 1) * chunk); ++b)
      for (idx oh = 0; oh < g.out_h; ++oh)
        for (idx ow = 0; ow < g.out_w; ++ow) {
          const float* d = dy + ((b * g.out_h + oh) * g.out_w + ow) * OC;
          for (idx kh = 0; kh < g.f_h; ++kh) {
            const idx ih = oh * g.stride_h - g.pad_top + kh * g.dil_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (idx kw = 0; kw < g.f_w; ++kw) {
              const idx iw = ow * g.stride_w - g.pad_left + kw * g.dil_w;
              if (iw < 0 || iw >= g.in_w) continue;
              const float* xs = x + ((b * g.in_h + ih) * g.in_w + iw) * C;
              float* a = acc + (kh * g.f_w + kw) * OC;
              if (mult == 1) {
                for (idx c = 0; c < C; ++c) a[c] += xs[c] * d[c];
              } else {
                for (idx c = 0; c < C; ++c)
                  for (idx q = 0; q < mult; ++q) a[c * mult + q] += xs[c] * d[c * mult + q];
              }
            }
          }
        }
  });
  std::copy(partial.begin(), partial.begin() + FS, dw);
  for (int t = 1; t < tasks; ++t)
    for (idx i = 0; i < FS; ++i) dw[i] += partial[t * FS + i];
}

void max_pool(const ConvGeom& g, const float* x, float* y, int8_t* arg) {
  const IsaKernels& k = isa_kernels();
  parallel_rows(g.batch * g.out_h, g.out_w * g.in_c * g.f_h * g.f_w,
                [&](idx r0, idx r1) { k.max_pool_rows(g, x, y, arg, r0, r1); });
}

void max_pool_grad_argmax(const ConvGeom& g, const float* dy, const int8_t* arg, float* dx) {
  const IsaKernels& k = isa_kernels();
  parallel_rows(g.batch, g.out_h * g.out_w * g.in_c * g.f_h * g.f_w,
                [&](idx b0, idx b1) { k.max_pool_grad_images(g, dy, arg, dx, b0, b1); });
}

void avg_pool(const ConvGeom& g, const float* x, float* y) {
  const idx C = g.in_c;
  parallel_rows(g.batch * g.out_h, g.out_w * C * g.f_h * g.f_w, [&](idx r0, idx r1) {
    std::vector<double> acc(static_cast<size_t>(C));
    for (idx r = r0; r < r1; ++r) {
      const idx b = r / g.out_h, oh = r % g.out_h;
      const idx h0 = std::max<idx>(0, oh * g.stride_h - g.pad_top);
      const idx h1 = std::min(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
      for (idx ow = 0; ow < g.out_w; ++ow) {
        const idx w0 = std::max<idx>(0, ow * g.stride_w - g.pad_left);
        const idx w1 = std::min(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (idx ih = h0; ih < h1; ++ih)
          for (idx iw = w0; iw < w1; ++iw) {
            const float* xs = x + ((b * g.in_h + ih) * g.in_w + iw) * C;
            for (idx c = 0; c < C; ++c) acc[c] += xs[c];
          }
        // tfjs divides by the number of pixels inside the image (padding excluded).
        const double count = static_cast<double>(std::max<idx>(0, h1 - h0) * std::max<idx>(0, w1 - w0));
        float* out = y + ((b * g.out_h + oh) * g.out_w + ow) * C;
        for (idx c = 0; c < C; ++c) out[c] = static_cast<float>(acc[c] / count);
      }
    }
  });
}

namespace {

// Windows that do not overlap (stride >= window in both directions): every input pixel belongs to
// at most one window, so each window writes its pixels' gradients directly (the winner's dy, 0
// elsewhere), with no scatter-add; only pixels outside every window are zero-filled.
void max_pool_grad_disjoint(const ConvGeom& g, const float* x, const float* dy, float* dx) {
  const idx C = g.in_c, plane = g.in_h * g.in_w * C;
  const bool covered = g.pad_top == 0 && g.pad_left == 0 && g.stride_h == g.f_h && g.stride_w == g.f_w &&
                       g.out_h * g.stride_h == g.in_h && g.out_w * g.stride_w == g.in_w;
  parallel_rows(g.batch, g.out_h * g.out_w * C * g.f_h * g.f_w, [&](idx b0, idx b1) {
    std::vector<float> best_v(static_cast<size_t>(C));
    std::vector<int32_t> pos_v(static_cast<size_t>(C));
    float* __restrict best = best_v.data();
    int32_t* __restrict pos = pos_v.data();
    for (idx b = b0; b < b1; ++b) {
      float* dxb = dx + b * plane;
      const float* xb = x + b * plane;
      if (!covered) std::fill(dxb, dxb + plane, 0.f);
      for (idx oh = 0; oh < g.out_h; ++oh) {
        const idx h0 = std::max<idx>(0, oh * g.stride_h - g.pad_top);
        const idx h1 = std::min(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
        for (idx ow = 0; ow < g.out_w; ++ow) {
          const idx w0 = std::max<idx>(0, ow * g.stride_w - g.pad_left);
          const idx w1 = std::min(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
          // Same winner as tfjs: the first strictly greater pixel in row-major window order; a
          // window of -Infinity/NaN has none and passes no gradient.
          for (idx c = 0; c < C; ++c) {
            best[c] = -std::numeric_limits<float>::infinity();
            pos[c] = -1;
          }
          int32_t k = 0;
          for (idx ih = h0; ih < h1; ++ih)
            for (idx iw = w0; iw < w1; ++iw, ++k) {
              const float* __restrict xs = xb + (ih * g.in_w + iw) * C;
              for (idx c = 0; c < C; ++c) {
                const float v = xs[c], bv = best[c];
                const int32_t m = -static_cast<int32_t>(v > bv);
                best[c] = v > bv ? v : bv;
                pos[c] = (pos[c] & ~m) | (k & m);
              }
            }
          const float* __restrict d = dy + ((b * g.out_h + oh) * g.out_w + ow) * C;
          k = 0;
          for (idx ih = h0; ih < h1; ++ih)
            for (idx iw = w0; iw < w1; ++iw, ++k) {
              float* __restrict o = dxb + (ih * g.in_w + iw) * C;
              // d[c] is read unconditionally so the compiler can make this a vector select
              for (idx c = 0; c < C; ++c) {
                const float dv = d[c];
                o[c] = pos[c] == k ? dv : 0.f;
              }
            }
        }
      }
    }
  });
}

}  // namespace

void max_pool_grad(const ConvGeom& g, const float* x, const float* dy, float* dx) {
  if (g.stride_h >= g.f_h && g.stride_w >= g.f_w) {
    max_pool_grad_disjoint(g, x, dy, dx);
    return;
  }
  const idx C = g.in_c;
  parallel_rows(g.batch, g.out_h * g.out_w * C * g.f_h * g.f_w, [&](idx b0, idx b1) {
    std::vector<float> best_v(static_cast<size_t>(C));
    std::vector<int32_t> pos_v(static_cast<size_t>(C));
    float* __restrict best = best_v.data();
    int32_t* __restrict pos = pos_v.data();
    for (idx b = b0; b < b1; ++b) {
      float* dxb = dx + b * g.in_h * g.in_w * C;
      const float* xb = x + b * g.in_h * g.in_w * C;
      std::fill(dxb, dxb + g.in_h * g.in_w * C, 0.f);
      for (idx oh = 0; oh < g.out_h; ++oh) {
        const idx h0 = std::max<idx>(0, oh * g.stride_h - g.pad_top);
        const idx h1 = std::min(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
        for (idx ow = 0; ow < g.out_w; ++ow) {
          const idx w0 = std::max<idx>(0, ow * g.stride_w - g.pad_left);
          const idx w1 = std::min(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
          // First strictly greater pixel in row-major window order wins (tfjs's maxPoolPositions);
          // a window of -Infinity/NaN has no winner and passes no gradient.
          for (idx c = 0; c < C; ++c) {
            best[c] = -std::numeric_limits<float>::infinity();
            pos[c] = -1;
          }
          for (idx ih = h0; ih < h1; ++ih)
            for (idx iw = w0; iw < w1; ++iw) {
              const float* __restrict xs = xb + (ih * g.in_w + iw) * C;
              const int32_t here = static_cast<int32_t>(ih * g.in_w + iw);
              // Branch-free (a mask, not a conditional move the compiler may turn into a jump):
              // on ReLU outputs the comparisons are coin flips.
              for (idx c = 0; c < C; ++c) {
                const float v = xs[c], bv = best[c];
                const int32_t m = -static_cast<int32_t>(v > bv);
                best[c] = v > bv ? v : bv;
                pos[c] = (pos[c] & ~m) | (here & m);
              }
            }
          const float* __restrict d = dy + ((b * g.out_h + oh) * g.out_w + ow) * C;
          for (idx c = 0; c < C; ++c)
            if (pos[c] >= 0) dxb[static_cast<idx>(pos[c]) * C + c] += d[c];
        }
      }
    }
  });
}

void avg_pool_grad(const ConvGeom& g, const float* dy, float* dx) {
  const idx C = g.in_c;
  // tfjs scales by the full window size, padding included (unlike its forward pass).
  const float scale = static_cast<float>(1.0 / static_cast<double>(g.f_h * g.f_w));
  parallel_rows(g.batch, g.out_h * g.out_w * C * g.f_h * g.f_w, [&](idx b0, idx b1) {
    for (idx b = b0; b < b1; ++b) {
      float* dxb = dx + b * g.in_h * g.in_w * C;
      std::fill(dxb, dxb + g.in_h * g.in_w * C, 0.f);
      for (idx oh = 0; oh < g.out_h; ++oh) {
        const idx h0 = std::max<idx>(0, oh * g.stride_h - g.pad_top);
        const idx h1 = std::min(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
        for (idx ow = 0; ow < g.out_w; ++ow) {
          const idx w0 = std::max<idx>(0, ow * g.stride_w - g.pad_left);
          const idx w1 = std::min(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
          const float* d = dy + ((b * g.out_h + oh) * g.out_w + ow) * C;
          for (idx ih = h0; ih < h1; ++ih)
            for (idx iw = w0; iw < w1; ++iw) {
              float* o = dxb + (ih * g.in_w + iw) * C;
              for (idx c = 0; c < C; ++c) o[c] += d[c];
            }
        }
      }
      for (idx i = 0; i < g.in_h * g.in_w * C; ++i) dxb[i] *= scale;
    }
  });
}

}  // namespace ma
