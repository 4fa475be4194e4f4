#include "reduce.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "elementwise.h"
#include "thread_pool.h"
#include "vmath.h"

namespace ma {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <class F>
void parallel_rows(idx rows, idx work_per_row, F&& fn) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  const idx work = rows * std::max<idx>(1, work_per_row);
  if (threads <= 1 || rows < 2 || work < (1 << 16)) {
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

// tfjs sums in double precision (a JS number accumulator).
double sum_contig(const float* x, idx n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  idx j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += x[j];
    s1 += x[j + 1];
    s2 += x[j + 2];
    s3 += x[j + 3];
  }
  for (; j < n; ++j) s0 += x[j];
  return (s0 + s1) + (s2 + s3);
}

// Max/Min as tfjs computes them: NaN as soon as any element is NaN.
template <bool kMax>
float extreme_contig(const float* x, idx n) {
  float m = x[0];
  bool nan = false;
  for (idx j = 0; j < n; ++j) {
    const float v = x[j];
    nan |= v != v;
    m = kMax ? (v > m ? v : m) : (v < m ? v : m);
  }
  return nan ? kNaN : m;
}

template <bool kMax>
int32_t arg_contig(const float* x, idx n, idx stride) {
  float m = x[0];
  int32_t best = 0;
  for (idx j = 0; j < n; ++j) {
    const float v = x[j * stride];
    if (kMax ? v > m : v < m) {
      m = v;
      best = static_cast<int32_t>(j);
    }
  }
  return best;
}

void reduce_inner(RedOp op, const float* x, float* out_f, int32_t* out_i, idx O, idx R) {
  parallel_rows(O, R, [&](idx b, idx e) {
    for (idx o = b; o < e; ++o) {
      const float* row = x + o * R;
      switch (op) {
        case RedOp::kSum: out_f[o] = static_cast<float>(sum_contig(row, R)); break;
        case RedOp::kMean: out_f[o] = R == 0 ? 0.f : static_cast<float>(sum_contig(row, R) / static_cast<double>(R)); break;
        case RedOp::kMax: out_f[o] = R == 0 ? kNaN : extreme_contig<true>(row, R); break;
        case RedOp::kMin: out_f[o] = R == 0 ? kNaN : extreme_contig<false>(row, R); break;
        case RedOp::kProd: {
          double p = 1;
          for (idx j = 0; j < R; ++j) p *= row[j];
          out_f[o] = static_cast<float>(p);
          break;
        }
        case RedOp::kArgMax: out_i[o] = R == 0 ? 0 : arg_contig<true>(row, R, 1); break;
        case RedOp::kArgMin: out_i[o] = R == 0 ? 0 : arg_contig<false>(row, R, 1); break;
      }
    }
  });
}

// Reduction over the middle axis with a contiguous inner axis: accumulate whole rows so the
// inner loop is vectorisable and memory is read once, in order.
void reduce_middle(RedOp op, const float* x, float* out_f, int32_t* out_i, idx O, idx R, idx I) {
  constexpr idx kBlock = 512;
  const idx iblocks = ceil_div(I, kBlock);
  parallel_rows(O * iblocks, R * std::min(I, kBlock), [&](idx b, idx e) {
    double dacc[kBlock];
    float facc[kBlock];
    uint8_t nan[kBlock];
    for (idx t = b; t < e; ++t) {
      const idx o = t / iblocks, i0 = (t % iblocks) * kBlock, n = std::min(kBlock, I - i0);
      const float* base = x + o * R * I + i0;
      float* of = out_f != nullptr ? out_f + o * I + i0 : nullptr;
      int32_t* oi = out_i != nullptr ? out_i + o * I + i0 : nullptr;
      switch (op) {
        case RedOp::kSum:
        case RedOp::kMean:
        case RedOp::kProd: {
          const double init = op == RedOp::kProd ? 1.0 : 0.0;
          for (idx i = 0; i < n; ++i) dacc[i] = init;
          for (idx r = 0; r < R; ++r) {
            const float* row = base + r * I;
            if (op == RedOp::kProd) {
              for (idx i = 0; i < n; ++i) dacc[i] *= row[i];
            } else {
              for (idx i = 0; i < n; ++i) dacc[i] += row[i];
            }
          }
          const double div = (op == RedOp::kMean && R > 0) ? static_cast<double>(R) : 1.0;
          for (idx i = 0; i < n; ++i) of[i] = static_cast<float>(dacc[i] / div);
          break;
        }
        case RedOp::kMax:
        case RedOp::kMin: {
          if (R == 0) {
            for (idx i = 0; i < n; ++i) of[i] = kNaN;
            break;
          }
          const bool mx = op == RedOp::kMax;
          for (idx i = 0; i < n; ++i) {
            facc[i] = base[i];
            nan[i] = 0;
          }
          for (idx r = 0; r < R; ++r) {
            const float* row = base + r * I;
            if (mx) {
              for (idx i = 0; i < n; ++i) {
                const float v = row[i];
                nan[i] |= v != v;
                facc[i] = v > facc[i] ? v : facc[i];
              }
            } else {
              for (idx i = 0; i < n; ++i) {
                const float v = row[i];
                nan[i] |= v != v;
                facc[i] = v < facc[i] ? v : facc[i];
              }
            }
          }
          for (idx i = 0; i < n; ++i) of[i] = nan[i] ? kNaN : facc[i];
          break;
        }
        case RedOp::kArgMax:
        case RedOp::kArgMin:
          for (idx i = 0; i < n; ++i)
            oi[i] = R == 0 ? 0 : (op == RedOp::kArgMax ? arg_contig<true>(base + i, R, I) : arg_contig<false>(base + i, R, I));
          break;
      }
    }
  });
}

}  // namespace

// Few outputs over a long reduced axis (a bias gradient: sum over batch and pixels, or a sum of
// everything): split the reduced axis across threads and combine the partial results in order.
static bool reduce_split(RedOp op, const float* x, float* out_f, idx O, idx R, idx I) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  const idx outputs = O * I;
  if (threads <= 1 || op == RedOp::kArgMax || op == RedOp::kArgMin || outputs > 4096 ||
      outputs * R < (idx(1) << 17) || R < 2 * threads)
    return false;
  const int tasks = threads;
  const idx chunk = ceil_div(R, tasks);
  std::vector<double> acc(static_cast<size_t>(tasks * outputs));
  std::vector<float> ext(static_cast<size_t>(tasks * outputs));
  std::vector<uint8_t> nan(static_cast<size_t>(tasks * outputs), 0);
  std::vector<uint8_t> empty(static_cast<size_t>(tasks), 1);
  const bool is_ext = op == RedOp::kMax || op == RedOp::kMin;
  pool.parallel_for(tasks, [&](int t) {
    const idx r0 = t * chunk, r1 = std::min(R, r0 + chunk);
    if (r0 >= r1) return;
    empty[t] = 0;
    for (idx o = 0; o < O; ++o) {
      double* a = acc.data() + t * outputs + o * I;
      float* m = ext.data() + t * outputs + o * I;
      uint8_t* nn = nan.data() + t * outputs + o * I;
      const float* base = x + o * R * I;
      if (is_ext) {
        const bool mx = op == RedOp::kMax;
        for (idx i = 0; i < I; ++i) m[i] = base[r0 * I + i];
        for (idx r = r0; r < r1; ++r) {
          const float* row = base + r * I;
          for (idx i = 0; i < I; ++i) {
            const float v = row[i];
            nn[i] |= v != v;
            m[i] = mx ? (v > m[i] ? v : m[i]) : (v < m[i] ? v : m[i]);
          }
        }
      } else {
        const double init = op == RedOp::kProd ? 1.0 : 0.0;
        for (idx i = 0; i < I; ++i) a[i] = init;
        for (idx r = r0; r < r1; ++r) {
          const float* row = base + r * I;
          if (op == RedOp::kProd) {
            for (idx i = 0; i < I; ++i) a[i] *= row[i];
          } else {
            for (idx i = 0; i < I; ++i) a[i] += row[i];
          }
        }
      }
    }
  });
  for (idx k = 0; k < outputs; ++k) {
    if (is_ext) {
      float m = 0.f;
      bool any_nan = false, first = true;
      for (int t = 0; t < tasks; ++t) {
        if (empty[t]) continue;
        const float v = ext[t * outputs + k];
        any_nan |= nan[t * outputs + k] != 0;
        if (first || (op == RedOp::kMax ? v > m : v < m)) m = v;
        first = false;
      }
      out_f[k] = any_nan ? kNaN : m;
    } else {
      double s = op == RedOp::kProd ? 1.0 : 0.0;
      for (int t = 0; t < tasks; ++t) {
        if (empty[t]) continue;
        s = op == RedOp::kProd ? s * acc[t * outputs + k] : s + acc[t * outputs + k];
      }
      out_f[k] = static_cast<float>(op == RedOp::kMean ? s / static_cast<double>(R) : s);
    }
  }
  return true;
}

void reduce_f32(RedOp op, const float* x, float* out_f, int32_t* out_i, idx O, idx R, idx I) {
  if (O == 0 || I == 0) return;
  if (R > 0 && reduce_split(op, x, out_f, O, R, I)) return;
  if (I == 1) {
    reduce_inner(op, x, out_f, out_i, O, R);
  } else {
    reduce_middle(op, x, out_f, out_i, O, R, I);
  }
}

void softmax_rows(const float* x, float* out, idx rows, idx cols, bool log) {
  if (cols == 0) return;
  parallel_rows(rows, cols * 8, [&](idx b, idx e) {
    for (idx r = b; r < e; ++r) {
      const float* xr = x + r * cols;
      float* orow = out + r * cols;
      const float m = extreme_contig<true>(xr, cols);
      for (idx j = 0; j < cols; ++j) orow[j] = xr[j] - m;
      if (log) {
        // log_softmax = (x - m) - log(sum(exp(x - m)))
        double s = 0;
        for (idx j = 0; j < cols; ++j) s += std::exp(static_cast<double>(orow[j]));
        const float ls = static_cast<float>(std::log(s));
        for (idx j = 0; j < cols; ++j) orow[j] = orow[j] - ls;
        continue;
      }
      for (idx j = 0; j < cols; ++j) {
        const float d = orow[j];
        orow[j] = exp_in_range(d) ? exp_core(d) : static_cast<float>(std::exp(static_cast<double>(d)));
      }
      const float s = static_cast<float>(sum_contig(orow, cols));
      for (idx j = 0; j < cols; ++j) orow[j] = orow[j] / s;
    }
  });
}

void softmax_grad_rows(const float* dy, const float* y, float* out, idx rows, idx cols) {
  if (cols == 0) return;
  parallel_rows(rows, cols * 3, [&](idx b, idx e) {
    for (idx r = b; r < e; ++r) {
      const float* dr = dy + r * cols;
      const float* yr = y + r * cols;
      float* orow = out + r * cols;
      double s = 0;
      for (idx j = 0; j < cols; ++j) {
        const float t = dr[j] * yr[j];
        orow[j] = t;
        s += t;
      }
      const float sf = static_cast<float>(s);
      for (idx j = 0; j < cols; ++j) orow[j] = orow[j] - sf * yr[j];
    }
  });
}

namespace {

// tfjs's ClipByValue: bounds compared as doubles, the result stored as float32.
inline float clip_prob(float p, double lo, double hi) {
  return p > hi ? static_cast<float>(hi) : p < lo ? static_cast<float>(lo) : p;
}

}  // namespace

void categorical_crossentropy_rows(const float* target, const float* output, float* loss, idx rows, idx cols,
                                   double eps) {
  const double lo = eps, hi = 1.0 - eps;
  parallel_rows(rows, cols * 16, [&](idx b, idx e) {
    for (idx r = b; r < e; ++r) {
      const float* t = target + r * cols;
      const float* o = output + r * cols;
      const float s = static_cast<float>(sum_contig(o, cols));
      double acc = 0;
      for (idx j = 0; j < cols; ++j) {
        const float q = clip_prob(o[j] / s, lo, hi);
        const float lq = static_cast<float>(std::log(static_cast<double>(q)));
        acc += static_cast<float>(t[j] * lq);
      }
      loss[r] = -static_cast<float>(acc);
    }
  });
}

void categorical_crossentropy_grad_rows(const float* dloss, const float* target, const float* output,
                                        float* grad, idx rows, idx cols, double eps) {
  const double lo = eps, hi = 1.0 - eps;
  // The gradient compares with the bounds as float32 scalar tensors, as tfjs's does.
  const float flo = static_cast<float>(eps), fhi = static_cast<float>(1.0 - eps);
  parallel_rows(rows, cols * 16, [&](idx b, idx e) {
    for (idx r = b; r < e; ++r) {
      const float* t = target + r * cols;
      const float* o = output + r * cols;
      float* g = grad + r * cols;
      const float s = static_cast<float>(sum_contig(o, cols));
      const float up = -dloss[r];  // Neg, then Sum's broadcast
      double dot = 0;              // sum_j dp_j * o_j for the divisor's gradient
      for (idx j = 0; j < cols; ++j) {
        const float p = o[j] / s;
        const float q = clip_prob(p, lo, hi);
        const float dlog = up * t[j];                              // Multiply's gradient
        const float dq = dlog / q;                                 // Log's gradient
        const float dp = (p >= flo && p <= fhi) ? dq : 0.f;        // ClipByValue's gradient
        g[j] = dp / s;                                             // RealDiv's gradient for o
        dot += static_cast<float>(dp * o[j]);
      }
      // RealDiv's gradient for the row sum, -sum(dp * o) / s^2, reaches every o_j through Sum.
      const float ds = -(static_cast<float>(dot) / (s * s));
      for (idx j = 0; j < cols; ++j) g[j] = g[j] + ds;
    }
  });
}

void transpose_words(const uint32_t* x, uint32_t* out, int rank, const idx* shape, const int* perm) {
  idx in_strides[kMaxRank], out_shape[kMaxRank], src_stride[kMaxRank];
  idx acc = 1;
  for (int d = rank - 1; d >= 0; --d) {
    in_strides[d] = acc;
    acc *= shape[d];
  }
  const idx total = acc;
  if (total == 0) return;
  for (int d = 0; d < rank; ++d) {
    out_shape[d] = shape[perm[d]];
    src_stride[d] = in_strides[perm[d]];
  }
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  const idx inner = out_shape[rank - 1];
  const idx rows = total / inner;
  // 2-D tiles when the innermost output axis walks the input with a large stride: reading a
  // tile of rows keeps both sides in cache.
  if (rank >= 2 && src_stride[rank - 1] != 1) {
    const idx outer_rows = rows / out_shape[rank - 2];
    const idx R = out_shape[rank - 2], C = inner;
    const idx sr = src_stride[rank - 2], sc = src_stride[rank - 1];
    constexpr idx T = 32;
    parallel_rows(outer_rows * ceil_div(R, T), T * C, [&](idx b, idx e) {
      for (idx t = b; t < e; ++t) {
        const idx ob = t / ceil_div(R, T), r0 = (t % ceil_div(R, T)) * T, r1 = std::min(R, r0 + T);
        // base offset of this outer index
        idx rem = ob, src = 0;
        for (int d = rank - 3; d >= 0; --d) {
          src += (rem % out_shape[d]) * src_stride[d];
          rem /= out_shape[d];
        }
        uint32_t* dst = out + ob * R * C;
        for (idx c0 = 0; c0 < C; c0 += T) {
          const idx c1 = std::min(C, c0 + T);
          for (idx r = r0; r < r1; ++r)
            for (idx c = c0; c < c1; ++c) dst[r * C + c] = x[src + r * sr + c * sc];
        }
      }
    });
    return;
  }
  parallel_rows(rows, inner, [&](idx b, idx e) {
    for (idx row = b; row < e; ++row) {
      idx rem = row, src = 0;
      for (int d = rank - 2; d >= 0; --d) {
        src += (rem % out_shape[d]) * src_stride[d];
        rem /= out_shape[d];
      }
      std::memcpy(out + row * inner, x + src, static_cast<size_t>(inner) * sizeof(uint32_t));
    }
  });
}

bool gather_words(const uint32_t* x, const int32_t* indices, uint32_t* out, idx batch, idx outer, idx dim,
                  idx slice, idx nidx) {
  for (idx i = 0; i < batch * nidx; ++i)
    if (indices[i] < 0 || indices[i] >= dim) return false;
  if (batch * outer == 1) {
    // One outer row (gathering rows of a matrix, e.g. a shuffled mini-batch): split the indices
    // between threads, or the whole copy runs on one core.
    parallel_rows(nidx, slice, [&](idx b, idx e) {
      for (idx i = b; i < e; ++i)
        std::memcpy(out + i * slice, x + static_cast<idx>(indices[i]) * slice, static_cast<size_t>(slice) * sizeof(uint32_t));
    });
    return true;
  }
  parallel_rows(batch * outer, nidx * slice, [&](idx b, idx e) {
    for (idx t = b; t < e; ++t) {
      const idx bi = t / outer;
      const uint32_t* src = x + t * dim * slice;
      uint32_t* dst = out + t * nidx * slice;
      const int32_t* ind = indices + bi * nidx;
      for (idx i = 0; i < nidx; ++i)
        std::memcpy(dst + i * slice, src + static_cast<idx>(ind[i]) * slice, static_cast<size_t>(slice) * sizeof(uint32_t));
    }
  });
  return true;
}

}  // namespace ma
