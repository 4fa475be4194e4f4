#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "isa_kernels.h"
#include "thread_pool.h"
#include "vmath.h"

namespace ma {
namespace {

constexpr idx kParallelMin = 1 << 16;  // below this, waking threads costs more than it saves
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Splits [0, n) over the pool; fn(begin, end). `cost` is the work of one item in elements:
// below kParallelMin elements in total, waking threads costs more than it saves.
template <class F>
void parallel_range(idx n, idx cost, F&& fn) {
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  const idx work = n * std::max<idx>(cost, 1);
  if (threads <= 1 || n < 2 || work < kParallelMin) {
    fn(0, n);
    return;
  }
  const int tasks = static_cast<int>(std::min<idx>({4 * static_cast<idx>(threads), ceil_div(work, kParallelMin / 4), n}));
  const idx align = cost == 1 ? 16 : 1;
  const idx chunk = ceil_div(ceil_div(n, tasks), align) * align;
  pool.parallel_for(tasks, [&](int t) {
    const idx b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  });
}

// Walks out[begin, end) of a broadcast geometry, calling inner(a_ptr, sa, b_ptr, sb, out_ptr, n)
// once per contiguous run of the innermost axis.
template <class T, class Inner>
void walk(const BroadcastGeom& g, const float* a, const float* b, T* out, idx begin, idx end, Inner&& inner) {
  const int r = g.rank;
  if (r == 0) {
    if (begin < end) inner(a, 0, b, 0, out, 1);
    return;
  }
  idx pos[kMaxRank];
  idx rem = begin, ao = 0, bo = 0;
  for (int d = r - 1; d >= 0; --d) {
    pos[d] = rem % g.shape[d];
    rem /= g.shape[d];
    ao += pos[d] * g.sa[d];
    bo += pos[d] * g.sb[d];
  }
  const idx inner_len = g.shape[r - 1];
  idx o = begin;
  while (o < end) {
    const idx n = std::min(inner_len - pos[r - 1], end - o);
    inner(a + ao, g.sa[r - 1], b + bo, g.sb[r - 1], out + o, n);
    o += n;
    pos[r - 1] += n;
    ao += n * g.sa[r - 1];
    bo += n * g.sb[r - 1];
    for (int d = r - 1; d > 0 && pos[d] == g.shape[d]; --d) {
      ao -= g.shape[d] * g.sa[d];
      bo -= g.shape[d] * g.sb[d];
      pos[d] = 0;
      ++pos[d - 1];
      ao += g.sa[d - 1];
      bo += g.sb[d - 1];
    }
  }
}

template <class T, class Op>
void run_binary(const Op& op, const float* a, const float* b, T* out, const BroadcastGeom& g) {
  auto inner = [&op](const float* pa, idx sa, const float* pb, idx sb, T* po, idx n) {
    if (sa == 1 && sb == 1) {
      for (idx i = 0; i < n; ++i) po[i] = op(pa[i], pb[i]);
    } else if (sa == 1 && sb == 0) {
      const float bv = *pb;
      for (idx i = 0; i < n; ++i) po[i] = op(pa[i], bv);
    } else if (sa == 0 && sb == 1) {
      const float av = *pa;
      for (idx i = 0; i < n; ++i) po[i] = op(av, pb[i]);
    } else {
      for (idx i = 0; i < n; ++i) po[i] = op(pa[i * sa], pb[i * sb]);
    }
  };
  if (g.rank == 2 && g.shape[1] < 256) {
    // Short rows (a bias of a few channels broadcast over many pixels): walk whole rows, so the
    // per-row bookkeeping of walk() is not paid every few elements.
    const idx cols = g.shape[1];
    parallel_range(g.shape[0], cols, [&](idx r0, idx r1) {
      for (idx r = r0; r < r1; ++r) inner(a + r * g.sa[0], g.sa[1], b + r * g.sb[0], g.sb[1], out + r * cols, cols);
    });
    return;
  }
  parallel_range(g.total(), 1, [&](idx b0, idx e0) { walk(g, a, b, out, b0, e0, inner); });
}

struct AddOp { float operator()(float a, float b) const { return a + b; } };
struct SubOp { float operator()(float a, float b) const { return a - b; } };
struct MulOp { float operator()(float a, float b) const { return a * b; } };
struct DivOp { float operator()(float a, float b) const { return a / b; } };
// Math.max/Math.min: NaN if either side is NaN.
struct MaxOp {
  float operator()(float a, float b) const {
    const float m = a > b ? a : b;
    return a != a ? a : (b != b ? b : m);
  }
};
struct MinOp {
  float operator()(float a, float b) const {
    const float m = a < b ? a : b;
    return a != a ? a : (b != b ? b : m);
  }
};
// tfjs squares the difference in double precision before rounding.
struct SqDiffOp {
  float operator()(float a, float b) const {
    const double d = static_cast<double>(a) - static_cast<double>(b);
    return static_cast<float>(d * d);
  }
};
struct PowOp {
  float operator()(float a, float b) const {
    // Math.pow: NaN exponent -> NaN, and (+-1) ** +-Infinity -> NaN (C's pow says 1).
    if (b != b) return kNaN;
    if (std::isinf(b) && (a == 1.f || a == -1.f)) return kNaN;
    return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
};
struct PreluOp { float operator()(float x, float a) const { return x < 0.f ? a * x : x; } };

struct EqOp { uint8_t operator()(float a, float b) const { return a == b; } };
struct NeOp { uint8_t operator()(float a, float b) const { return a != b; } };
struct LtOp { uint8_t operator()(float a, float b) const { return a < b; } };
struct LeOp { uint8_t operator()(float a, float b) const { return a <= b; } };
struct GtOp { uint8_t operator()(float a, float b) const { return a > b; } };
struct GeOp { uint8_t operator()(float a, float b) const { return a >= b; } };

template <class F>
void map_unary(const float* x, float* out, idx n, F f) {
  parallel_range(n, 1, [&](idx b, idx e) {
    // A private copy: captured floats reached through a pointer may alias out[], which blocks
    // vectorisation.
    const F g = f;
    for (idx i = b; i < e; ++i) out[i] = g(x[i]);
  });
}

// One vectorised pass; the rare arguments outside exp_core's range (overflow, underflow to
// denormals, NaN) are redone in double precision afterwards, only if there are any.
void exp_array(const float* x, float* out, idx n) {
  parallel_range(n, 1, [&](idx b, idx e) {
    int outside = 0;
    for (idx i = b; i < e; ++i) {
      out[i] = exp_core(x[i]);
      outside |= !exp_in_range(x[i]);
    }
    if (outside)
      for (idx i = b; i < e; ++i)
        if (!exp_in_range(x[i])) out[i] = static_cast<float>(std::exp(static_cast<double>(x[i])));
  });
}

void sigmoid_array(const float* x, float* out, idx n) {
  parallel_range(n, 1, [&](idx b, idx e) {
    int outside = 0;
    for (idx i = b; i < e; ++i) {
      out[i] = 1.f / (1.f + exp_core(-x[i]));
      outside |= !exp_in_range(-x[i]);
    }
    if (outside)
      for (idx i = b; i < e; ++i)
        if (!exp_in_range(-x[i])) out[i] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))));
  });
}

// tfjs's softplus: mirrors tf.nn.softplus thresholds (log(float32 epsilon) + 2).
float softplus(float xf) {
  const double x = xf;
  const double threshold = std::log(1.1920928955078125e-7) + 2.0;
  const double ex = std::exp(x);
  if (x < threshold) return static_cast<float>(ex);
  if (x > -threshold) return xf;
  return static_cast<float>(std::log(1.0 + ex));
}

// tfjs's erf: Abramowitz-Stegun 7.1.26, in double like the JS kernel.
float erf_as(float xf) {
  const double x = xf;
  const double p = 0.3275911, a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741, a4 = -1.453152027,
               a5 = 1.061405429;
  const double sign = x > 0 ? 1.0 : (x < 0 ? -1.0 : (x == 0 ? 0.0 : x));
  const double v = std::fabs(x);
  const double t = 1.0 / (1.0 + p * v);
  return static_cast<float>(sign * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * std::exp(-v * v)));
}

}  // namespace

bool binary_f32(BinOp op, const float* a, const float* b, float* out, const BroadcastGeom& g) {
  switch (op) {
    case BinOp::kAdd: run_binary(AddOp{}, a, b, out, g); return true;
    case BinOp::kSub: run_binary(SubOp{}, a, b, out, g); return true;
    case BinOp::kMul: run_binary(MulOp{}, a, b, out, g); return true;
    case BinOp::kDiv: run_binary(DivOp{}, a, b, out, g); return true;
    case BinOp::kMaximum: run_binary(MaxOp{}, a, b, out, g); return true;
    case BinOp::kMinimum: run_binary(MinOp{}, a, b, out, g); return true;
    case BinOp::kSquaredDifference: run_binary(SqDiffOp{}, a, b, out, g); return true;
    case BinOp::kPow: run_binary(PowOp{}, a, b, out, g); return true;
    case BinOp::kPrelu: run_binary(PreluOp{}, a, b, out, g); return true;
  }
  return false;
}

bool compare_f32(CmpOp op, const float* a, const float* b, uint8_t* out, const BroadcastGeom& g) {
  switch (op) {
    case CmpOp::kEqual: run_binary(EqOp{}, a, b, out, g); return true;
    case CmpOp::kNotEqual: run_binary(NeOp{}, a, b, out, g); return true;
    case CmpOp::kLess: run_binary(LtOp{}, a, b, out, g); return true;
    case CmpOp::kLessEqual: run_binary(LeOp{}, a, b, out, g); return true;
    case CmpOp::kGreater: run_binary(GtOp{}, a, b, out, g); return true;
    case CmpOp::kGreaterEqual: run_binary(GeOp{}, a, b, out, g); return true;
  }
  return false;
}

bool unary_f32(UnOp op, const float* x, float* out, idx n, double alpha, double beta) {
  const float af = static_cast<float>(alpha);
  switch (op) {
    case UnOp::kAbs: map_unary(x, out, n, [](float v) { return std::fabs(v); }); return true;
    case UnOp::kNeg: map_unary(x, out, n, [](float v) { return -v; }); return true;
    case UnOp::kSquare: map_unary(x, out, n, [](float v) { return v * v; }); return true;
    case UnOp::kSqrt: map_unary(x, out, n, [](float v) { return std::sqrt(v); }); return true;
    case UnOp::kRsqrt:
      map_unary(x, out, n, [](float v) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(v))); });
      return true;
    case UnOp::kReciprocal: map_unary(x, out, n, [](float v) { return 1.f / v; }); return true;
    case UnOp::kExp: exp_array(x, out, n); return true;
    case UnOp::kExpm1: map_unary(x, out, n, [](float v) { return std::expm1(v); }); return true;
    case UnOp::kLog: map_unary(x, out, n, [](float v) { return std::log(v); }); return true;
    case UnOp::kLog1p: map_unary(x, out, n, [](float v) { return std::log1p(v); }); return true;
    case UnOp::kRelu: map_unary(x, out, n, [](float v) { return v < 0.f ? 0.f : v; }); return true;
    case UnOp::kRelu6: map_unary(x, out, n, [](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }); return true;
    case UnOp::kElu: map_unary(x, out, n, [](float v) { return v >= 0.f ? v : std::expm1(v); }); return true;
    case UnOp::kSelu:
      map_unary(x, out, n, [](float v) {
        const double scale = 1.0507009873554804934193349852946, scale_alpha = 1.7580993408473768599402175208123;
        return v >= 0.f ? static_cast<float>(scale * v) : static_cast<float>(scale_alpha * std::expm1(static_cast<double>(v)));
      });
      return true;
    case UnOp::kLeakyRelu:
      map_unary(x, out, n, [alpha](float v) { return v < 0.f ? static_cast<float>(alpha * v) : v; });
      return true;
    case UnOp::kSigmoid: sigmoid_array(x, out, n); return true;
    case UnOp::kTanh: map_unary(x, out, n, [](float v) { return tanh_approx(v); }); return true;
    case UnOp::kSoftplus: map_unary(x, out, n, softplus); return true;
    case UnOp::kStep:
      map_unary(x, out, n, [af](float v) {
        const float r = v > 0.f ? 1.f : af;
        return v != v ? v : r;
      });
      return true;
    case UnOp::kSign:
      map_unary(x, out, n, [](float v) {
        const float neg = v < 0.f ? -1.f : 0.f, pos = v > 0.f ? 1.f : 0.f;
        return neg + pos;
      });
      return true;
    case UnOp::kFloor: map_unary(x, out, n, [](float v) { return std::floor(v); }); return true;
    case UnOp::kCeil: map_unary(x, out, n, [](float v) { return std::ceil(v); }); return true;
    case UnOp::kRound: map_unary(x, out, n, [](float v) { return std::nearbyint(v); }); return true;
    case UnOp::kClip:
      // Compared in double like the JS kernel: the attribute bounds are not float32 values.
      map_unary(x, out, n, [alpha, beta](float v) {
        const double d = v;
        return d > beta ? static_cast<float>(beta) : (d < alpha ? static_cast<float>(alpha) : v);
      });
      return true;
    case UnOp::kSin: map_unary(x, out, n, [](float v) { return std::sin(v); }); return true;
    case UnOp::kCos: map_unary(x, out, n, [](float v) { return std::cos(v); }); return true;
    case UnOp::kErf: map_unary(x, out, n, erf_as); return true;
  }
  return false;
}

void add_n(const float* const* xs, int count, float* out, idx n) {
  parallel_range(n, 1, [&](idx b, idx e) {
    for (idx i = b; i < e; ++i) out[i] = 0.f;
    for (int k = 0; k < count; ++k) {
      const float* x = xs[k];
      for (idx i = b; i < e; ++i) out[i] += x[i];
    }
  });
}

void select_f32(const uint8_t* cond, const float* t, const float* e, float* out, idx n) {
  parallel_range(n, 1, [&](idx b, idx en) {
    for (idx i = b; i < en; ++i) out[i] = cond[i] == 1 ? t[i] : e[i];
  });
}

void elu_grad(const float* dy, const float* y, float* out, idx n) {
  parallel_range(n, 1, [&](idx b, idx e) {
    for (idx i = b; i < e; ++i) out[i] = y[i] >= 0.f ? dy[i] : dy[i] * (y[i] + 1.f);
  });
}

void relu_grad(const float* dy, const float* x, float* out, idx n, idx cols, float* sums) {
  const IsaKernels& k = isa_kernels();
  if (sums == nullptr || cols <= 0) {
    parallel_range(n, 1, [&](idx b, idx e) { k.relu_grad_range(dy, x, out, b, e); });
    return;
  }
  // Each task sums its rows into its own accumulators; they are added in task order.
  const idx rows = n / cols;
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  const int tasks = threads > 1 && n >= kParallelMin ? static_cast<int>(std::min<idx>(2 * threads, rows)) : 1;
  std::vector<double> partial(static_cast<size_t>(tasks * cols), 0.0);
  const idx chunk = ceil_div(rows, tasks);
  pool.parallel_for(tasks, [&](int t) {
    const idx r0 = t * chunk, r1 = std::min(rows, r0 + chunk);
    if (r0 < r1) k.relu_grad_rows(dy, x, out, cols, r0, r1, partial.data() + t * cols);
  });
  for (idx c = 0; c < cols; ++c) {
    double s = 0.0;
    for (int t = 0; t < tasks; ++t) s += partial[t * cols + c];
    sums[c] = static_cast<float>(s);
  }
}

}  // namespace ma
