// Standalone correctness check of the native kernels (no N-API, no Node): every kernel is
// compared on seeded random inputs against a naive reference loop in double precision.
//
// Tolerance: each element must satisfy |got - ref| <= 1e-4 * max(1, |ref|) (a relative error
// for values above 1, an absolute one below). Integer outputs (argmax/argmin, pooling winners,
// comparisons, gathers, transposes) and the optimizer updates (documented as bit-identical to
// tfjs's float32 order of operations) are compared exactly.
//
// Built and run by scripts/check-native.sh (g++, clang++, aarch64 under qemu). Exit status 1 on
// any mismatch; the failing case (sizes, flags, max error, first bad index) is printed.
#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "conv.h"
#include "cpu_features.h"
#include "elementwise.h"
#include "gemm.h"
#include "optim.h"
#include "reduce.h"
#include "thread_pool.h"

using ma::idx;

namespace {

constexpr double kTol = 1e-4;

#if defined(__aarch64__)
const char* const kArch = "aarch64";
#elif defined(__x86_64__)
const char* const kArch = "x86_64";
#else
const char* const kArch = "unknown-arch";
#endif

#if defined(__clang__)
const char* const kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
const char* const kCompiler = "gcc " __VERSION__;
#else
const char* const kCompiler = "unknown compiler";
#endif

// ---------------------------------------------------------------------------------------------
// Random numbers (splitmix64: the same sequence on every platform and compiler).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  float uni(float lo, float hi) { return static_cast<float>(lo + (hi - lo) * unit()); }
  idx below(idx n) { return static_cast<idx>(next() % static_cast<uint64_t>(n)); }
};

std::vector<float> rand_vec(Rng& r, idx n, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = r.uni(lo, hi);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping: one line per check group, a failure report per mismatching case.
int g_total_checks = 0;
int g_failures = 0;
std::string g_context;  // "<isa cap> threads=<n>" of the pass being run

struct Group {
  const char* name;
  int checks = 0;
  double max_err = 0;
  int failures = 0;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  explicit Group(const char* n) : name(n) {}
  ~Group() {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  %-24s %-26s %5d checks  max err %.2e  %6.2f s%s\n", name, g_context.c_str(), checks, max_err, s,
                failures ? "  FAILED" : "");
    std::fflush(stdout);
  }
};

void report_failure(Group& g, const std::string& what, const char* detail) {
  ++g.failures;
  ++g_failures;
  if (g_failures <= 30) std::printf("FAIL [%s %s] %s: %s\n", g.name, g_context.c_str(), what.c_str(), detail);
  std::fflush(stdout);
}

// Floats against a double reference: |got - ref| <= kTol * max(1, |ref|); NaN must match NaN.
bool check_near(Group& g, const std::string& what, const float* got, const double* ref, idx n, double tol = kTol) {
  ++g.checks;
  ++g_total_checks;
  double worst = 0;
  idx worst_i = -1, bad = 0;
  for (idx i = 0; i < n; ++i) {
    const double a = got[i];
    // the reference rounded to float32's range: a result beyond it is +-Infinity in float
    const double b = std::fabs(ref[i]) > std::numeric_limits<float>::max() && !std::isinf(ref[i])
                         ? std::copysign(std::numeric_limits<double>::infinity(), ref[i])
                         : ref[i];
    double e;
    if (std::isnan(b) || std::isnan(a)) {
      e = (std::isnan(a) && std::isnan(b)) ? 0.0 : std::numeric_limits<double>::infinity();
    } else if (std::isinf(b) || std::isinf(a)) {
      e = a == b ? 0.0 : std::numeric_limits<double>::infinity();
    } else {
      e = std::fabs(a - b) / std::max(1.0, std::fabs(b));
    }
    if (e > tol) ++bad;
    if (e > worst || (worst_i < 0 && e > 0)) {
      worst = e;
      worst_i = i;
    }
  }
  if (worst > g.max_err && std::isfinite(worst)) g.max_err = worst;
  if (bad == 0) return true;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%" PRIdPTR " of %" PRIdPTR " elements off, max err %.3e at [%" PRIdPTR "] (got %.9g, ref %.9g)",
                static_cast<intptr_t>(bad), static_cast<intptr_t>(n), worst, static_cast<intptr_t>(worst_i),
                static_cast<double>(got[worst_i]), ref[worst_i]);
  report_failure(g, what, buf);
  return false;
}

template <class T, class U>
bool check_exact(Group& g, const std::string& what, const T* got, const U* ref, idx n) {
  ++g.checks;
  ++g_total_checks;
  for (idx i = 0; i < n; ++i) {
    const bool same = std::memcmp(&got[i], &ref[i], sizeof(T)) == 0 || (sizeof(T) != sizeof(U) && got[i] == ref[i]);
    if (!same) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "first difference at [%" PRIdPTR "] of %" PRIdPTR ": got %.9g, ref %.9g",
                    static_cast<intptr_t>(i), static_cast<intptr_t>(n), static_cast<double>(got[i]),
                    static_cast<double>(ref[i]));
      report_failure(g, what, buf);
      return false;
    }
  }
  return true;
}

void check_true(Group& g, const std::string& what, bool ok, const char* detail) {
  ++g.checks;
  ++g_total_checks;
  if (!ok) report_failure(g, what, detail);
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Activations of the fused epilogues, in double.
const char* act_name(ma::Act a) {
  switch (a) {
    case ma::Act::kLinear: return "linear";
    case ma::Act::kRelu: return "relu";
    case ma::Act::kRelu6: return "relu6";
    case ma::Act::kElu: return "elu";
    case ma::Act::kLeakyRelu: return "leaky";
    case ma::Act::kSigmoid: return "sigmoid";
    case ma::Act::kPrelu: return "prelu";
  }
  return "?";
}

double ref_act(ma::Act a, double v, double alpha, double prelu_w) {
  switch (a) {
    case ma::Act::kLinear: return v;
    case ma::Act::kRelu: return v < 0 ? 0 : v;
    case ma::Act::kRelu6: return v < 0 ? 0 : (v > 6 ? 6 : v);
    case ma::Act::kElu: return v >= 0 ? v : std::expm1(v);
    case ma::Act::kLeakyRelu: return v < 0 ? alpha * v : v;
    case ma::Act::kSigmoid: return 1.0 / (1.0 + std::exp(-v));
    case ma::Act::kPrelu: return v < 0 ? prelu_w * v : v;
  }
  return v;
}

constexpr ma::Act kActs[] = {ma::Act::kLinear,    ma::Act::kRelu,    ma::Act::kRelu6, ma::Act::kElu,
                             ma::Act::kLeakyRelu, ma::Act::kSigmoid, ma::Act::kPrelu};

// ---------------------------------------------------------------------------------------------
// SGEMM
struct GemmCase {
  idx M, N, K;
  bool ta, tb, acc;
  int bias_mode;  // 0 none, 1 per column j (row broadcast), 2 per row i (column broadcast), 3 full matrix
  ma::Act act;
  int max_threads;  // sgemm's argument: 0 = whole pool, 1 = caller only
};

void gemm_case(Group& grp, Rng& rng, const GemmCase& c) {
  const idx M = c.M, N = c.N, K = c.K;
  const std::string what = fmt("M=%td N=%td K=%td transA=%d transB=%d acc=%d bias=%d act=%s max_threads=%d", M, N, K,
                               c.ta, c.tb, c.acc, c.bias_mode, act_name(c.act), c.max_threads);
  // Padded leading dimensions so strides differ from the logical sizes.
  const idx lda = (c.ta ? M : K) + 1, ldb = (c.tb ? K : N) + 2, ldc = N + 3;
  std::vector<float> A = rand_vec(rng, (c.ta ? K : M) * lda + 1);
  std::vector<float> B = rand_vec(rng, (c.tb ? N : K) * ldb + 1);
  const float kSentinel = 12345.f;
  std::vector<float> C(static_cast<size_t>(M * ldc + 1), kSentinel);
  for (idx i = 0; i < M; ++i)
    for (idx j = 0; j < N; ++j)
      C[i * ldc + j] = c.acc ? rng.uni(-1.f, 1.f) : std::numeric_limits<float>::quiet_NaN();
  std::vector<float> bias = rand_vec(rng, M * N + 1), prelu = rand_vec(rng, N + M + 1, 0.f, 0.5f);

  ma::GemmProblem g;
  g.M = M;
  g.N = N;
  g.K = K;
  g.A = A.data();
  g.a_rs = c.ta ? 1 : lda;
  g.a_cs = c.ta ? lda : 1;
  g.B = B.data();
  g.b_rs = c.tb ? 1 : ldb;
  g.b_cs = c.tb ? ldb : 1;
  g.C = C.data();
  g.c_rs = ldc;
  g.accumulate = c.acc;
  if (c.bias_mode != 0) {
    g.ep.bias = bias.data();
    g.ep.bias_rs = c.bias_mode == 1 ? 0 : (c.bias_mode == 2 ? 1 : N);
    g.ep.bias_cs = c.bias_mode == 2 ? 0 : 1;
  }
  g.ep.act = c.act;
  g.ep.alpha = 0.2f;
  // PReLU weights per column (per row for odd M, to cover both strides).
  const bool prelu_rows = (M & 1) != 0;
  if (c.act == ma::Act::kPrelu) {
    g.ep.prelu = prelu.data();
    g.ep.prelu_rs = prelu_rows ? 1 : 0;
    g.ep.prelu_cs = prelu_rows ? 0 : 1;
  }

  std::vector<double> ref(static_cast<size_t>(M * N));
  for (idx i = 0; i < M; ++i)
    for (idx j = 0; j < N; ++j) {
      double s = c.acc ? static_cast<double>(C[i * ldc + j]) : 0.0;
      for (idx p = 0; p < K; ++p)
        s += static_cast<double>(A[i * g.a_rs + p * g.a_cs]) * static_cast<double>(B[p * g.b_rs + j * g.b_cs]);
      if (g.ep.bias) s += g.ep.bias[i * g.ep.bias_rs + j * g.ep.bias_cs];
      const double pw = g.ep.prelu ? g.ep.prelu[i * g.ep.prelu_rs + j * g.ep.prelu_cs] : 0.0;
      ref[i * N + j] = ref_act(c.act, s, g.ep.alpha, pw);
    }

  ma::sgemm(g, c.max_threads);

  std::vector<float> got(static_cast<size_t>(M * N));
  bool pad_ok = C[M * ldc] == kSentinel;
  for (idx i = 0; i < M; ++i) {
    for (idx j = 0; j < N; ++j) got[i * N + j] = C[i * ldc + j];
    for (idx j = N; j < ldc; ++j) pad_ok = pad_ok && C[i * ldc + j] == kSentinel;
  }
  check_near(grp, what, got.data(), ref.data(), M * N);
  check_true(grp, what + " (padding of C)", pad_ok, "wrote outside the C matrix");
}

void run_gemm(Rng& rng, int max_threads) {
  Group grp(max_threads == 1 ? "sgemm (1 thread)" : "sgemm (pool)");
  const idx sizes[] = {1, 3, 7, 17, 33, 65, 129, 257};
  int n = 0;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j, ++n) {
      GemmCase c;
      c.M = sizes[i];
      c.N = sizes[j];
      c.K = sizes[(i + 3 * j + 1) % 8];
      if (c.M * c.N * c.K > 4000000) c.K = 33;  // keep emulated runs short
      c.ta = (n % 2) == 1;
      c.tb = (n / 2 % 2) == 1;
      c.acc = (n % 3) == 0;
      c.bias_mode = (i + 2 * j) % 4;
      c.act = kActs[(i * 5 + j) % 7];
      c.max_threads = max_threads;
      gemm_case(grp, rng, c);
    }
  // Edge cases: empty K (C = 0 or kept, then the epilogue), empty M/N (no-op), a wide N over the
  // column blocking (nc), products large enough to run on several threads through the blocked
  // path (M*K > 2^18, N > 64) and through the broadcast path, and GEMV shapes.
  const GemmCase extra[] = {
      {5, 7, 0, false, false, false, 1, ma::Act::kRelu, max_threads},
      {5, 7, 0, true, true, true, 3, ma::Act::kSigmoid, max_threads},
      {0, 5, 3, false, false, false, 0, ma::Act::kLinear, max_threads},
      {4, 0, 3, false, false, true, 1, ma::Act::kRelu, max_threads},
      {7, 4133, 19, true, false, false, 1, ma::Act::kLeakyRelu, max_threads},
      {263, 131, 1031, false, false, false, 1, ma::Act::kRelu, max_threads},
      {263, 131, 1031, true, true, true, 2, ma::Act::kLinear, max_threads},
      // Row-major A through the kernels' vector packers: a depth block (1003 / 3 = 335) that is
      // not a multiple of 8 and a last sliver of 4 rows.
      {300, 97, 1003, false, false, true, 3, ma::Act::kRelu, max_threads},
      {1031, 64, 129, false, false, false, 1, ma::Act::kRelu6, max_threads},
      {1, 4099, 517, false, false, false, 1, ma::Act::kElu, max_threads},
      {1, 4099, 517, false, true, true, 1, ma::Act::kPrelu, max_threads},
      {4099, 1, 517, false, false, false, 2, ma::Act::kPrelu, max_threads},
      {4099, 1, 517, true, false, true, 2, ma::Act::kSigmoid, max_threads},
      {1, 1, 1, false, false, false, 3, ma::Act::kRelu, max_threads},
  };
  for (const GemmCase& c : extra) gemm_case(grp, rng, c);
}

// ---------------------------------------------------------------------------------------------
// Convolutions (NHWC, filter [fh, fw, in_c, out_c]; depthwise [fh, fw, in_c, mult]).
struct ConvSpec {
  idx batch, in_h, in_w, in_c, out_c, f_h, f_w, sh, sw, dh, dw;
  bool same;
};

ma::ConvGeom make_geom(const ConvSpec& s) {
  ma::ConvGeom g{};
  g.batch = s.batch;
  g.in_h = s.in_h;
  g.in_w = s.in_w;
  g.in_c = s.in_c;
  g.out_c = s.out_c;
  g.f_h = s.f_h;
  g.f_w = s.f_w;
  g.stride_h = s.sh;
  g.stride_w = s.sw;
  g.dil_h = s.dh;
  g.dil_w = s.dw;
  const idx eh = (s.f_h - 1) * s.dh + 1, ew = (s.f_w - 1) * s.dw + 1;
  if (s.same) {
    g.out_h = (s.in_h + s.sh - 1) / s.sh;
    g.out_w = (s.in_w + s.sw - 1) / s.sw;
    const idx ph = std::max<idx>(0, (g.out_h - 1) * s.sh + eh - s.in_h);
    const idx pw = std::max<idx>(0, (g.out_w - 1) * s.sw + ew - s.in_w);
    g.pad_top = ph / 2;
    g.pad_left = pw / 2;
  } else {
    g.out_h = (s.in_h - eh + s.sh) / s.sh;
    g.out_w = (s.in_w - ew + s.sw) / s.sw;
    g.pad_top = g.pad_left = 0;
  }
  return g;
}

std::string geom_str(const ma::ConvGeom& g) {
  return fmt("b=%td in=%tdx%tdx%td out=%tdx%tdx%td f=%tdx%td s=%td,%td d=%td,%td pad=%td,%td", g.batch, g.in_h, g.in_w,
             g.in_c, g.out_h, g.out_w, g.out_c, g.f_h, g.f_w, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.pad_top,
             g.pad_left);
}

// Calls f(b, oh, ow, kh, kw, ih, iw) for every tap that lands inside the image.
template <class F>
void for_taps(const ma::ConvGeom& g, F&& f) {
  for (idx b = 0; b < g.batch; ++b)
    for (idx oh = 0; oh < g.out_h; ++oh)
      for (idx ow = 0; ow < g.out_w; ++ow)
        for (idx kh = 0; kh < g.f_h; ++kh) {
          const idx ih = oh * g.stride_h - g.pad_top + kh * g.dil_h;
          if (ih < 0 || ih >= g.in_h) continue;
          for (idx kw = 0; kw < g.f_w; ++kw) {
            const idx iw = ow * g.stride_w - g.pad_left + kw * g.dil_w;
            if (iw < 0 || iw >= g.in_w) continue;
            f(b, oh, ow, kh, kw, ih, iw);
          }
        }
}

const ConvSpec kConvSpecs[] = {
    // batch, in_h, in_w, in_c, out_c, f_h, f_w, sh, sw, dh, dw, same
    {1, 5, 5, 1, 8, 3, 3, 1, 1, 1, 1, true},      // one input channel (adjacent-pixel tiles)
    {3, 9, 7, 3, 5, 3, 3, 2, 2, 1, 1, true},      // stride 2, batch 3
    {1, 8, 9, 5, 17, 3, 3, 1, 1, 2, 2, false},    // dilation 2, valid
    {3, 7, 7, 7, 33, 5, 5, 2, 2, 2, 2, true},     // stride 2 + dilation 2, odd channels
    {1, 6, 6, 16, 16, 1, 1, 1, 1, 1, 1, false},   // pointwise (plain GEMM over x)
    {3, 9, 9, 3, 1, 2, 2, 2, 2, 1, 1, false},     // one output channel
    {1, 11, 13, 9, 65, 3, 1, 1, 2, 1, 1, true},   // non-square filter/stride
    {1, 4, 5, 3, 7, 1, 1, 2, 2, 1, 1, true},      // 1x1 strided (not pointwise)
    {3, 17, 17, 8, 24, 3, 3, 1, 1, 1, 1, true},   // enough work to split over threads
    {1, 6, 6, 700, 9, 5, 5, 1, 1, 1, 1, true},    // K = 17500: im2col GEMM path, GEMM filter gradient
    {3, 14, 14, 560, 1, 3, 3, 1, 1, 1, 1, true},  // filter gradient split over threads (AVX-512)
    {1, 3, 3, 2, 3, 5, 5, 1, 1, 1, 1, true},      // filter larger than the image
    {0, 5, 5, 3, 4, 3, 3, 1, 1, 1, 1, true},      // empty batch (the filter gradient is all zeros)
};

void run_conv(Rng& rng) {
  Group grp("conv2d (+backprops)");
  int n = 0;
  for (const ConvSpec& s : kConvSpecs) {
    const ma::ConvGeom g = make_geom(s);
    const std::string gs = geom_str(g);
    const idx xs = g.batch * g.in_h * g.in_w * g.in_c, ys = g.batch * g.out_h * g.out_w * g.out_c;
    const idx ws = g.f_h * g.f_w * g.in_c * g.out_c;
    std::vector<float> x = rand_vec(rng, xs), w = rand_vec(rng, ws), dy = rand_vec(rng, ys);
    std::vector<float> bias = rand_vec(rng, g.out_c), prelu = rand_vec(rng, g.out_c, 0.f, 0.5f);
    auto X = [&](idx b, idx h, idx ww, idx c) { return static_cast<double>(x[((b * g.in_h + h) * g.in_w + ww) * g.in_c + c]); };
    auto W = [&](idx kh, idx kw, idx ic, idx oc) {
      return static_cast<double>(w[((kh * g.f_w + kw) * g.in_c + ic) * g.out_c + oc]);
    };
    auto Y = [&](idx b, idx oh, idx ow) { return ((b * g.out_h + oh) * g.out_w + ow) * g.out_c; };

    // Forward, with a fused epilogue that varies by case.
    ma::Epilogue ep;
    const ma::Act act = kActs[n % 7];
    ep.act = act;
    ep.alpha = 0.1f;
    if (n % 2 == 0) {
      ep.bias = bias.data();
      ep.bias_cs = 1;
    }
    if (act == ma::Act::kPrelu) {
      ep.prelu = prelu.data();
      ep.prelu_cs = 1;
    }
    std::vector<double> yref(static_cast<size_t>(ys), 0.0);
    for_taps(g, [&](idx b, idx oh, idx ow, idx kh, idx kw, idx ih, idx iw) {
      double* o = &yref[Y(b, oh, ow)];
      for (idx ic = 0; ic < g.in_c; ++ic) {
        const double xv = X(b, ih, iw, ic);
        for (idx oc = 0; oc < g.out_c; ++oc) o[oc] += xv * W(kh, kw, ic, oc);
      }
    });
    for (idx i = 0; i < ys; ++i) {
      const idx oc = i % g.out_c;
      double v = yref[i] + (ep.bias ? bias[oc] : 0.0);
      yref[i] = ref_act(act, v, ep.alpha, prelu[oc]);
    }
    std::vector<float> y(static_cast<size_t>(ys), std::numeric_limits<float>::quiet_NaN());
    ma::conv2d(g, x.data(), w.data(), y.data(), ep);
    check_near(grp, "conv2d " + gs + " act=" + act_name(act) + (ep.bias ? " +bias" : ""), y.data(), yref.data(), ys);

    // Input gradient, dilated ones included (tfjs itself only defines it for dilation 1; the
    // addon refuses others, but the kernel handles them).
    {
      std::vector<double> dxref(static_cast<size_t>(xs), 0.0);
      for_taps(g, [&](idx b, idx oh, idx ow, idx kh, idx kw, idx ih, idx iw) {
        const float* d = &dy[Y(b, oh, ow)];
        double* o = &dxref[((b * g.in_h + ih) * g.in_w + iw) * g.in_c];
        for (idx ic = 0; ic < g.in_c; ++ic) {
          double s = 0;
          for (idx oc = 0; oc < g.out_c; ++oc) s += static_cast<double>(d[oc]) * W(kh, kw, ic, oc);
          o[ic] += s;
        }
      });
      std::vector<float> dx(static_cast<size_t>(xs), std::numeric_limits<float>::quiet_NaN());
      ma::conv2d_backprop_input(g, dy.data(), w.data(), dx.data());
      check_near(grp, "conv2d_backprop_input " + gs, dx.data(), dxref.data(), xs);
    }

    // Filter gradient (any dilation).
    std::vector<double> dwref(static_cast<size_t>(ws), 0.0);
    for_taps(g, [&](idx b, idx oh, idx ow, idx kh, idx kw, idx ih, idx iw) {
      const float* d = &dy[Y(b, oh, ow)];
      for (idx ic = 0; ic < g.in_c; ++ic) {
        const double xv = X(b, ih, iw, ic);
        double* o = &dwref[((kh * g.f_w + kw) * g.in_c + ic) * g.out_c];
        for (idx oc = 0; oc < g.out_c; ++oc) o[oc] += xv * d[oc];
      }
    });
    std::vector<float> dw(static_cast<size_t>(ws), std::numeric_limits<float>::quiet_NaN());
    ma::conv2d_backprop_filter(g, x.data(), dy.data(), dw.data());
    check_near(grp, "conv2d_backprop_filter " + gs, dw.data(), dwref.data(), ws);
    ++n;
  }
}

const ConvSpec kDepthwiseSpecs[] = {
    // out_c = in_c * multiplier
    {1, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, true},
    {3, 9, 8, 5, 10, 3, 3, 2, 2, 1, 1, true},
    {1, 9, 9, 7, 7, 3, 3, 1, 1, 2, 2, false},
    {3, 8, 7, 4, 12, 5, 3, 2, 1, 1, 2, true},
    {3, 20, 20, 16, 16, 3, 3, 1, 1, 1, 1, true},  // enough rows to split over threads
    {0, 4, 4, 3, 6, 3, 3, 1, 1, 1, 1, true},      // empty batch
};

void run_depthwise(Rng& rng) {
  Group grp("depthwise (+backprops)");
  int n = 0;
  for (const ConvSpec& s : kDepthwiseSpecs) {
    const ma::ConvGeom g = make_geom(s);
    const std::string gs = geom_str(g);
    const idx mult = g.out_c / g.in_c, OC = g.out_c;
    const idx xs = g.batch * g.in_h * g.in_w * g.in_c, ys = g.batch * g.out_h * g.out_w * OC;
    const idx ws = g.f_h * g.f_w * OC;
    std::vector<float> x = rand_vec(rng, xs), w = rand_vec(rng, ws), dy = rand_vec(rng, ys);
    std::vector<float> bias = rand_vec(rng, OC);
    ma::Epilogue ep;
    const ma::Act act = kActs[(n * 3 + 1) % 6];  // no PReLU here
    ep.act = act;
    ep.alpha = 0.3f;
    ep.bias = bias.data();
    ep.bias_cs = 1;
    std::vector<double> yref(static_cast<size_t>(ys), 0.0), dxref(static_cast<size_t>(xs), 0.0),
        dwref(static_cast<size_t>(ws), 0.0);
    for_taps(g, [&](idx b, idx oh, idx ow, idx kh, idx kw, idx ih, idx iw) {
      const idx yo = ((b * g.out_h + oh) * g.out_w + ow) * OC, xo = ((b * g.in_h + ih) * g.in_w + iw) * g.in_c;
      const idx wo = (kh * g.f_w + kw) * OC;
      for (idx c = 0; c < g.in_c; ++c)
        for (idx q = 0; q < mult; ++q) {
          const idx oc = c * mult + q;
          yref[yo + oc] += static_cast<double>(x[xo + c]) * w[wo + oc];
          dxref[xo + c] += static_cast<double>(dy[yo + oc]) * w[wo + oc];
          dwref[wo + oc] += static_cast<double>(x[xo + c]) * dy[yo + oc];
        }
    });
    for (idx i = 0; i < ys; ++i) yref[i] = ref_act(act, yref[i] + bias[i % OC], ep.alpha, 0);
    std::vector<float> y(static_cast<size_t>(ys), NAN), dx(static_cast<size_t>(xs), NAN), dw(static_cast<size_t>(ws), NAN);
    ma::depthwise_conv2d(g, x.data(), w.data(), y.data(), ep);
    check_near(grp, "depthwise_conv2d " + gs + " act=" + act_name(act), y.data(), yref.data(), ys);
    ma::depthwise_backprop_input(g, dy.data(), w.data(), dx.data());
    check_near(grp, "depthwise_backprop_input " + gs, dx.data(), dxref.data(), xs);
    ma::depthwise_backprop_filter(g, x.data(), dy.data(), dw.data());
    check_near(grp, "depthwise_backprop_filter " + gs, dw.data(), dwref.data(), ws);
    ++n;
  }
}

// ---------------------------------------------------------------------------------------------
// Pooling
const ConvSpec kPoolSpecs[] = {
    // in_c == out_c; f = window
    {1, 7, 7, 3, 3, 3, 3, 2, 2, 1, 1, true},
    {3, 8, 8, 16, 16, 2, 2, 2, 2, 1, 1, false},   // disjoint windows covering the image
    {1, 9, 9, 32, 32, 3, 3, 1, 1, 1, 1, true},    // overlapping, channels a multiple of every vector width
    {3, 5, 6, 5, 5, 2, 3, 1, 2, 1, 1, true},      // non-square
    {1, 10, 10, 8, 8, 3, 3, 3, 3, 1, 1, false},   // disjoint, last row/column uncovered
    {1, 4, 4, 4, 4, 5, 5, 1, 1, 1, 1, true},      // window larger than the image
    {3, 24, 24, 48, 48, 3, 3, 2, 2, 1, 1, true},  // enough work to split over threads
};

void run_pool(Rng& rng) {
  Group grp("pooling (+grads)");
  for (const ConvSpec& s : kPoolSpecs) {
    const ma::ConvGeom g = make_geom(s);
    const std::string gs = geom_str(g);
    const idx C = g.in_c, xs = g.batch * g.in_h * g.in_w * C, ys = g.batch * g.out_h * g.out_w * C;
    std::vector<float> x = rand_vec(rng, xs), dy = rand_vec(rng, ys);
    std::vector<double> maxref(static_cast<size_t>(ys)), avgref(static_cast<size_t>(ys)),
        dxmax(static_cast<size_t>(xs), 0.0), dxavg(static_cast<size_t>(xs), 0.0);
    std::vector<int> argref(static_cast<size_t>(ys));
    const double full = static_cast<double>(g.f_h * g.f_w);
    for (idx b = 0; b < g.batch; ++b)
      for (idx oh = 0; oh < g.out_h; ++oh)
        for (idx ow = 0; ow < g.out_w; ++ow)
          for (idx c = 0; c < C; ++c) {
            const idx o = ((b * g.out_h + oh) * g.out_w + ow) * C + c;
            const idx h0 = std::max<idx>(0, oh * g.stride_h - g.pad_top), h1 = std::min(g.in_h, oh * g.stride_h - g.pad_top + g.f_h);
            const idx w0 = std::max<idx>(0, ow * g.stride_w - g.pad_left), w1 = std::min(g.in_w, ow * g.stride_w - g.pad_left + g.f_w);
            double best = -INFINITY, sum = 0;
            int k = 0, bestk = -1;
            idx besti = -1;
            for (idx ih = h0; ih < h1; ++ih)
              for (idx iw = w0; iw < w1; ++iw, ++k) {
                const idx xi = ((b * g.in_h + ih) * g.in_w + iw) * C + c;
                sum += x[xi];
                if (x[xi] > best) {  // first strictly greater wins (tfjs)
                  best = x[xi];
                  bestk = k;
                  besti = xi;
                }
                dxavg[xi] += dy[o] / full;  // tfjs: full window size, padding included
              }
            maxref[o] = best;
            argref[o] = bestk;
            avgref[o] = sum / static_cast<double>(k);  // in-image pixels only
            if (besti >= 0) dxmax[besti] += dy[o];
          }
    std::vector<float> y(static_cast<size_t>(ys), NAN), y2(static_cast<size_t>(ys), NAN), dx(static_cast<size_t>(xs), NAN);
    std::vector<int8_t> arg(static_cast<size_t>(ys), 99);
    ma::max_pool(g, x.data(), y.data(), nullptr);
    check_near(grp, "max_pool " + gs, y.data(), maxref.data(), ys);
    ma::max_pool(g, x.data(), y2.data(), arg.data());
    check_near(grp, "max_pool+argmax " + gs, y2.data(), maxref.data(), ys);
    check_exact(grp, "max_pool argmax positions " + gs, arg.data(), argref.data(), ys);
    ma::max_pool_grad_argmax(g, dy.data(), arg.data(), dx.data());
    check_near(grp, "max_pool_grad_argmax " + gs, dx.data(), dxmax.data(), xs);
    std::fill(dx.begin(), dx.end(), NAN);
    ma::max_pool_grad(g, x.data(), dy.data(), dx.data());
    check_near(grp, "max_pool_grad " + gs, dx.data(), dxmax.data(), xs);
    ma::avg_pool(g, x.data(), y.data());
    check_near(grp, "avg_pool " + gs, y.data(), avgref.data(), ys);
    std::fill(dx.begin(), dx.end(), NAN);
    ma::avg_pool_grad(g, dy.data(), dx.data());
    check_near(grp, "avg_pool_grad " + gs, dx.data(), dxavg.data(), xs);
  }
}

// ---------------------------------------------------------------------------------------------
// Elementwise
void run_elementwise(Rng& rng) {
  Group grp("elementwise");
  const char* bin_names[] = {"add", "sub", "mul", "div", "maximum", "minimum", "squared_difference", "pow", "prelu"};
  // Broadcast geometries: [3,5,7] op [1,5,1]; [2,3,4,5] op scalar; a bias row over many rows
  // (the short-row path); a long array split over threads; rank 0.
  struct Shape {
    int rank;
    idx shape[4];
    idx bshape[4];  // b's shape (1 = broadcast along that axis)
  };
  const Shape shapes[] = {
      {3, {3, 5, 7, 0}, {1, 5, 1, 0}},
      {4, {2, 3, 4, 5}, {1, 1, 1, 1}},
      {2, {3001, 17, 0, 0}, {1, 17, 0, 0}},
      {2, {7, 300, 0, 0}, {7, 1, 0, 0}},
      {3, {3, 1, 40001, 0}, {3, 1, 40001, 0}},
      {0, {0, 0, 0, 0}, {0, 0, 0, 0}},
  };
  for (const Shape& sh : shapes) {
    ma::BroadcastGeom g{};
    g.rank = sh.rank;
    idx na = 1, nb = 1;
    for (int d = 0; d < sh.rank; ++d) {
      g.shape[d] = sh.shape[d];
      na *= sh.shape[d];
      nb *= sh.bshape[d];
    }
    // row-major strides; 0 where b broadcasts
    idx sa = 1, sb = 1;
    for (int d = sh.rank - 1; d >= 0; --d) {
      g.sa[d] = sh.shape[d] == 1 ? 0 : sa;
      g.sb[d] = sh.bshape[d] == 1 ? 0 : sb;
      sa *= sh.shape[d];
      sb *= sh.bshape[d];
    }
    const idx n = g.total();
    std::vector<float> a = rand_vec(rng, na, 0.25f, 2.f), b = rand_vec(rng, nb, -2.f, 2.f);
    for (size_t i = 0; i < b.size(); i += 3) b[i] = -b[i] > 0 ? -b[i] : b[i];  // some negatives
    std::vector<float> out(static_cast<size_t>(n));
    std::vector<double> ref(static_cast<size_t>(n));
    std::string shape_s = "[";
    for (int d = 0; d < sh.rank; ++d) shape_s += fmt("%s%td/%td", d ? "," : "", sh.shape[d], sh.bshape[d]);
    shape_s += "]";
    for (int op = 0; op <= static_cast<int>(ma::BinOp::kPrelu); ++op) {
      // reference by walking the output index
      for (idx o = 0; o < n; ++o) {
        idx rem = o, ia = 0, ib = 0;
        for (int d = sh.rank - 1; d >= 0; --d) {
          const idx p = rem % g.shape[d];
          rem /= g.shape[d];
          ia += p * g.sa[d];
          ib += p * g.sb[d];
        }
        const double x = a[ia], y = b[ib];
        double r = 0;
        switch (static_cast<ma::BinOp>(op)) {
          case ma::BinOp::kAdd: r = x + y; break;
          case ma::BinOp::kSub: r = x - y; break;
          case ma::BinOp::kMul: r = x * y; break;
          case ma::BinOp::kDiv: r = x / y; break;
          case ma::BinOp::kMaximum: r = std::max(x, y); break;
          case ma::BinOp::kMinimum: r = std::min(x, y); break;
          case ma::BinOp::kSquaredDifference: r = (x - y) * (x - y); break;
          case ma::BinOp::kPow: r = std::pow(x, y); break;
          case ma::BinOp::kPrelu: r = x < 0 ? y * x : x; break;
        }
        ref[o] = r;
      }
      std::fill(out.begin(), out.end(), NAN);
      const bool ok = ma::binary_f32(static_cast<ma::BinOp>(op), a.data(), b.data(), out.data(), g);
      check_true(grp, fmt("binary %s %s returns true", bin_names[op], shape_s.c_str()), ok, "returned false");
      check_near(grp, fmt("binary %s %s", bin_names[op], shape_s.c_str()), out.data(), ref.data(), n);
    }
    // comparisons, exactly (a and b are drawn so that some pairs are equal)
    std::vector<float> a2 = a;
    for (idx o = 0; o < na && o < nb; o += 2) a2[o] = b[o];
    std::vector<uint8_t> cmp(static_cast<size_t>(n)), cref(static_cast<size_t>(n));
    for (int op = 0; op <= static_cast<int>(ma::CmpOp::kGreaterEqual); ++op) {
      for (idx o = 0; o < n; ++o) {
        idx rem = o, ia = 0, ib = 0;
        for (int d = sh.rank - 1; d >= 0; --d) {
          const idx p = rem % g.shape[d];
          rem /= g.shape[d];
          ia += p * g.sa[d];
          ib += p * g.sb[d];
        }
        const float x = a2[ia], y = b[ib];
        bool r = false;
        switch (static_cast<ma::CmpOp>(op)) {
          case ma::CmpOp::kEqual: r = x == y; break;
          case ma::CmpOp::kNotEqual: r = x != y; break;
          case ma::CmpOp::kLess: r = x < y; break;
          case ma::CmpOp::kLessEqual: r = x <= y; break;
          case ma::CmpOp::kGreater: r = x > y; break;
          case ma::CmpOp::kGreaterEqual: r = x >= y; break;
        }
        cref[o] = r ? 1 : 0;
      }
      ma::compare_f32(static_cast<ma::CmpOp>(op), a2.data(), b.data(), cmp.data(), g);
      check_exact(grp, fmt("compare op=%d %s", op, shape_s.c_str()), cmp.data(), cref.data(), n);
    }
  }

  // Unary ops on a long array (split over threads when the pool has several).
  const idx n = 70001;
  std::vector<float> x = rand_vec(rng, n, -4.f, 4.f), pos = rand_vec(rng, n, 0.01f, 9.f);
  x[0] = 0.f;
  x[1] = -0.f;
  x[2] = 95.f;    // exp overflow -> inf (outside the vector range, redone in double)
  x[3] = -100.f;  // exp underflow
  x[4] = NAN;
  std::vector<float> out(static_cast<size_t>(n));
  std::vector<double> ref(static_cast<size_t>(n));
  struct U {
    ma::UnOp op;
    const char* name;
    bool positive;
    double (*f)(double);
  };
  const U unops[] = {
      {ma::UnOp::kAbs, "abs", false, [](double v) { return std::fabs(v); }},
      {ma::UnOp::kNeg, "neg", false, [](double v) { return -v; }},
      {ma::UnOp::kSquare, "square", false, [](double v) { return v * v; }},
      {ma::UnOp::kSqrt, "sqrt", true, [](double v) { return std::sqrt(v); }},
      {ma::UnOp::kRsqrt, "rsqrt", true, [](double v) { return 1.0 / std::sqrt(v); }},
      {ma::UnOp::kReciprocal, "reciprocal", true, [](double v) { return 1.0 / v; }},
      {ma::UnOp::kExp, "exp", false, [](double v) { return std::exp(v); }},
      {ma::UnOp::kExpm1, "expm1", false, [](double v) { return std::expm1(v); }},
      {ma::UnOp::kLog, "log", true, [](double v) { return std::log(v); }},
      {ma::UnOp::kLog1p, "log1p", true, [](double v) { return std::log1p(v); }},
      {ma::UnOp::kRelu, "relu", false, [](double v) { return v < 0 ? 0.0 : v; }},
      {ma::UnOp::kRelu6, "relu6", false, [](double v) { return v < 0 ? 0.0 : (v > 6 ? 6.0 : v); }},
      {ma::UnOp::kElu, "elu", false, [](double v) { return v >= 0 ? v : std::expm1(v); }},
      {ma::UnOp::kSigmoid, "sigmoid", false, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
      {ma::UnOp::kTanh, "tanh", false, [](double v) { return std::tanh(v); }},
      {ma::UnOp::kSoftplus, "softplus", false, [](double v) { return std::log1p(std::exp(v)); }},
      {ma::UnOp::kErf, "erf", false, [](double v) { return std::erf(v); }},
      {ma::UnOp::kSin, "sin", false, [](double v) { return std::sin(v); }},
      {ma::UnOp::kFloor, "floor", false, [](double v) { return std::floor(v); }},
  };
  for (const U& u : unops) {
    const std::vector<float>& in = u.positive ? pos : x;
    for (idx i = 0; i < n; ++i) ref[i] = u.f(in[i]);
    std::fill(out.begin(), out.end(), -777.f);
    ma::unary_f32(u.op, in.data(), out.data(), n, 0.0, 0.0);
    check_near(grp, fmt("unary %s n=%td", u.name, n), out.data(), ref.data(), n);
  }
  {  // leaky relu and clip take their attributes
    for (idx i = 0; i < n; ++i) ref[i] = x[i] < 0 ? 0.2 * x[i] : x[i];
    ma::unary_f32(ma::UnOp::kLeakyRelu, x.data(), out.data(), n, 0.2, 0.0);
    check_near(grp, "unary leaky_relu alpha=0.2", out.data(), ref.data(), n);
    for (idx i = 0; i < n; ++i) ref[i] = std::isnan(x[i]) ? x[i] : std::min(1.5, std::max(-0.5, static_cast<double>(x[i])));
    ma::unary_f32(ma::UnOp::kClip, x.data(), out.data(), n, -0.5, 1.5);
    check_near(grp, "unary clip [-0.5, 1.5]", out.data(), ref.data(), n);
  }
  {  // add_n, select, elu_grad, relu_grad (+ column sums)
    std::vector<float> x1 = rand_vec(rng, n), x2 = rand_vec(rng, n), x3 = rand_vec(rng, n);
    const float* xs[3] = {x1.data(), x2.data(), x3.data()};
    for (idx i = 0; i < n; ++i) ref[i] = static_cast<double>(x1[i]) + x2[i] + x3[i];
    ma::add_n(xs, 3, out.data(), n);
    check_near(grp, "add_n 3 inputs", out.data(), ref.data(), n);
    std::vector<uint8_t> cond(static_cast<size_t>(n));
    for (idx i = 0; i < n; ++i) cond[i] = static_cast<uint8_t>(rng.below(2));
    for (idx i = 0; i < n; ++i) ref[i] = cond[i] ? x1[i] : x2[i];
    ma::select_f32(cond.data(), x1.data(), x2.data(), out.data(), n);
    check_near(grp, "select", out.data(), ref.data(), n);
    for (idx i = 0; i < n; ++i) ref[i] = x2[i] >= 0 ? x1[i] : static_cast<double>(x1[i]) * (x2[i] + 1.0);
    ma::elu_grad(x1.data(), x2.data(), out.data(), n);
    check_near(grp, "elu_grad", out.data(), ref.data(), n);
    const idx cols = 37, rows = 2003, m = rows * cols;
    std::vector<float> dy = rand_vec(rng, m), v = rand_vec(rng, m), o(static_cast<size_t>(m)), sums(cols);
    std::vector<double> r(static_cast<size_t>(m)), rs(cols, 0.0);
    for (idx i = 0; i < m; ++i) {
      r[i] = v[i] > 0 ? dy[i] : 0.0;
      rs[i % cols] += r[i];
    }
    ma::relu_grad(dy.data(), v.data(), o.data(), m, 0, nullptr);
    check_near(grp, fmt("relu_grad n=%td", m), o.data(), r.data(), m);
    std::fill(o.begin(), o.end(), NAN);
    ma::relu_grad(dy.data(), v.data(), o.data(), m, cols, sums.data());
    check_near(grp, fmt("relu_grad rows=%td cols=%td", rows, cols), o.data(), r.data(), m);
    check_near(grp, fmt("relu_grad column sums rows=%td cols=%td", rows, cols), sums.data(), rs.data(), cols);
  }
}

// ---------------------------------------------------------------------------------------------
// Reductions, softmax, transpose, gather
void run_reduce(Rng& rng) {
  Group grp("reduce/softmax/layout");
  const idx shapes[][3] = {{1, 70001, 1}, {37, 129, 1}, {5, 33, 7}, {3, 17, 1031}, {2, 20000, 3}, {4, 1, 9}, {3, 0, 5}};
  const char* names[] = {"sum", "mean", "max", "min", "prod", "argmax", "argmin"};
  for (const auto& s : shapes) {
    const idx O = s[0], R = s[1], I = s[2];
    std::vector<float> x = rand_vec(rng, O * R * I + 1, -2.f, 2.f);
    std::vector<float> xp = rand_vec(rng, O * R * I + 1, 0.999f, 1.001f);  // products stay finite
    for (int op = 0; op <= static_cast<int>(ma::RedOp::kArgMin); ++op) {
      const std::vector<float>& in = op == static_cast<int>(ma::RedOp::kProd) ? xp : x;
      std::vector<double> ref(static_cast<size_t>(O * I));
      std::vector<int32_t> iref(static_cast<size_t>(O * I));
      for (idx o = 0; o < O; ++o)
        for (idx i = 0; i < I; ++i) {
          double sum = 0, prod = 1, mx = -INFINITY, mn = INFINITY;
          int32_t amx = 0, amn = 0;
          for (idx r = 0; r < R; ++r) {
            const double v = in[(o * R + r) * I + i];
            sum += v;
            prod *= v;
            if (v > mx) {
              mx = v;
              amx = static_cast<int32_t>(r);
            }
            if (v < mn) {
              mn = v;
              amn = static_cast<int32_t>(r);
            }
          }
          double r = 0;
          switch (static_cast<ma::RedOp>(op)) {
            case ma::RedOp::kSum: r = sum; break;
            case ma::RedOp::kMean: r = R ? sum / static_cast<double>(R) : 0.0; break;
            case ma::RedOp::kMax: r = R ? mx : NAN; break;
            case ma::RedOp::kMin: r = R ? mn : NAN; break;
            case ma::RedOp::kProd: r = prod; break;
            default: break;
          }
          ref[o * I + i] = r;
          iref[o * I + i] = op == static_cast<int>(ma::RedOp::kArgMax) ? amx : amn;
        }
      std::vector<float> out(static_cast<size_t>(O * I), -777.f);
      std::vector<int32_t> iout(static_cast<size_t>(O * I), -777);
      const bool arg = op >= static_cast<int>(ma::RedOp::kArgMax);
      ma::reduce_f32(static_cast<ma::RedOp>(op), in.data(), arg ? nullptr : out.data(), arg ? iout.data() : nullptr, O, R, I);
      const std::string what = fmt("reduce %s O=%td R=%td I=%td", names[op], O, R, I);
      if (arg) {
        check_exact(grp, what, iout.data(), iref.data(), O * I);
      } else {
        check_near(grp, what, out.data(), ref.data(), O * I);
      }
    }
  }
  // softmax / log-softmax
  const idx sm[][2] = {{7, 10}, {3000, 33}, {2, 1}};
  for (bool lg : {false, true})
    for (const auto& rc : sm) {
      const idx rows = rc[0], cols = rc[1];
      std::vector<float> x = rand_vec(rng, rows * cols, -8.f, 8.f), out(static_cast<size_t>(rows * cols));
      std::vector<double> ref(static_cast<size_t>(rows * cols));
      for (idx r = 0; r < rows; ++r) {
        double m = -INFINITY, s = 0;
        for (idx c = 0; c < cols; ++c) m = std::max(m, static_cast<double>(x[r * cols + c]));
        for (idx c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - m);
        for (idx c = 0; c < cols; ++c)
          ref[r * cols + c] = lg ? (x[r * cols + c] - m) - std::log(s) : std::exp(x[r * cols + c] - m) / s;
      }
      ma::softmax_rows(x.data(), out.data(), rows, cols, lg);
      check_near(grp, fmt("%s rows=%td cols=%td", lg ? "log_softmax" : "softmax", rows, cols), out.data(), ref.data(),
                 rows * cols);
    }
  // softmax gradient: dx = y * (dy - sum(dy * y))
  for (const auto& rc : sm) {
    const idx rows = rc[0], cols = rc[1];
    std::vector<float> dy = rand_vec(rng, rows * cols), y = rand_vec(rng, rows * cols, 0.f, 1.f);
    std::vector<float> out(static_cast<size_t>(rows * cols));
    std::vector<double> ref(static_cast<size_t>(rows * cols));
    for (idx r = 0; r < rows; ++r) {
      double s = 0;
      for (idx c = 0; c < cols; ++c) s += static_cast<double>(dy[r * cols + c]) * y[r * cols + c];
      for (idx c = 0; c < cols; ++c) ref[r * cols + c] = y[r * cols + c] * (dy[r * cols + c] - s);
    }
    ma::softmax_grad_rows(dy.data(), y.data(), out.data(), rows, cols);
    check_near(grp, fmt("softmax_grad rows=%td cols=%td", rows, cols), out.data(), ref.data(), rows * cols);
  }
  // categorical cross-entropy of probabilities and its gradient w.r.t. the probabilities:
  // L = -sum_j t_j log(clip(o_j / S)), S = sum_k o_k; dL/do_j = (g_j - sum_k g_k o_k / S) / S
  // with g_j = -dl * t_j / q_j where eps <= p_j <= 1 - eps, else 0.
  {
    const double eps = 1e-7;
    const idx cc[][2] = {{7, 10}, {300, 33}, {2, 1}};
    for (const auto& rc : cc) {
      const idx rows = rc[0], cols = rc[1];
      std::vector<float> o = rand_vec(rng, rows * cols, 0.f, 1.f), t = rand_vec(rng, rows * cols, 0.f, 1.f);
      std::vector<float> dl = rand_vec(rng, rows);
      if (cols > 2) {
        o[0] = 0.f;     // clipped below
        o[1] = 1e-12f;  // clipped below
      }
      std::vector<float> loss(static_cast<size_t>(rows)), grad(static_cast<size_t>(rows * cols));
      std::vector<double> rl(static_cast<size_t>(rows)), rg(static_cast<size_t>(rows * cols));
      for (idx r = 0; r < rows; ++r) {
        double s = 0;
        for (idx c = 0; c < cols; ++c) s += o[r * cols + c];
        double l = 0, dot = 0;
        std::vector<double> g(static_cast<size_t>(cols));
        for (idx c = 0; c < cols; ++c) {
          const double p = o[r * cols + c] / s;
          const double q = std::min(std::max(p, eps), 1 - eps);
          l -= t[r * cols + c] * std::log(q);
          g[c] = (p >= eps && p <= 1 - eps) ? -dl[r] * t[r * cols + c] / q : 0.0;
          dot += g[c] * o[r * cols + c];
        }
        rl[r] = l;
        for (idx c = 0; c < cols; ++c) rg[r * cols + c] = (g[c] - dot / s) / s;
      }
      ma::categorical_crossentropy_rows(t.data(), o.data(), loss.data(), rows, cols, eps);
      ma::categorical_crossentropy_grad_rows(dl.data(), t.data(), o.data(), grad.data(), rows, cols, eps);
      check_near(grp, fmt("categorical_crossentropy rows=%td cols=%td", rows, cols), loss.data(), rl.data(), rows);
      // the clipped-away gradient of a near-zero probability is ~1/S^2: compare relative to the row scale
      check_near(grp, fmt("categorical_crossentropy_grad rows=%td cols=%td", rows, cols), grad.data(), rg.data(),
                 rows * cols, 1e-3);
    }
  }
  // transpose (4-byte words, compared exactly)
  struct T {
    int rank;
    idx shape[4];
    int perm[4];
  };
  const T ts[] = {{2, {37, 53}, {1, 0}}, {3, {5, 7, 9}, {2, 0, 1}}, {4, {3, 4, 5, 6}, {0, 2, 1, 3}},
                  {4, {2, 33, 17, 5}, {3, 1, 0, 2}}, {3, {64, 65, 31}, {1, 2, 0}}};
  for (const T& t : ts) {
    idx total = 1;
    for (int d = 0; d < t.rank; ++d) total *= t.shape[d];
    std::vector<uint32_t> x(static_cast<size_t>(total)), out(static_cast<size_t>(total)), ref(static_cast<size_t>(total));
    for (auto& v : x) v = static_cast<uint32_t>(rng.next());
    idx in_str[4], out_shape[4];
    idx acc = 1;
    for (int d = t.rank - 1; d >= 0; --d) {
      in_str[d] = acc;
      acc *= t.shape[d];
    }
    for (int d = 0; d < t.rank; ++d) out_shape[d] = t.shape[t.perm[d]];
    for (idx o = 0; o < total; ++o) {
      idx rem = o, src = 0;
      for (int d = t.rank - 1; d >= 0; --d) {
        src += (rem % out_shape[d]) * in_str[t.perm[d]];
        rem /= out_shape[d];
      }
      ref[o] = x[src];
    }
    ma::transpose_words(x.data(), out.data(), t.rank, t.shape, t.perm);
    std::string ps;
    for (int d = 0; d < t.rank; ++d) ps += fmt("%s%td", d ? "x" : "", t.shape[d]);
    check_exact(grp, "transpose_words " + ps, out.data(), ref.data(), total);
  }
  // gather: out[b, o, i, s] = x[b, o, ind[b, i], s]; the second shape (one outer row, many
  // indices: a shuffled mini-batch) takes the path that splits the indices between threads.
  const idx gs[][5] = {{2, 3, 11, 5, 7}, {1, 1, 5000, 37, 3000}};
  for (const auto& gg : gs) {
    const idx batch = gg[0], outer = gg[1], dim = gg[2], slice = gg[3], nidx = gg[4];
    std::vector<uint32_t> x(static_cast<size_t>(batch * outer * dim * slice));
    for (auto& v : x) v = static_cast<uint32_t>(rng.next());
    std::vector<int32_t> ind(static_cast<size_t>(batch * nidx));
    for (auto& v : ind) v = static_cast<int32_t>(rng.below(dim));
    std::vector<uint32_t> out(static_cast<size_t>(batch * outer * nidx * slice)), ref(out.size());
    for (idx b = 0; b < batch; ++b)
      for (idx o = 0; o < outer; ++o)
        for (idx i = 0; i < nidx; ++i)
          for (idx s = 0; s < slice; ++s)
            ref[((b * outer + o) * nidx + i) * slice + s] = x[((b * outer + o) * dim + ind[b * nidx + i]) * slice + s];
    const bool ok = ma::gather_words(x.data(), ind.data(), out.data(), batch, outer, dim, slice, nidx);
    check_true(grp, "gather_words in range", ok, "returned false");
    check_exact(grp, fmt("gather_words batch=%td outer=%td nidx=%td", batch, outer, nidx), out.data(), ref.data(),
                static_cast<idx>(out.size()));
    ind[3] = static_cast<int32_t>(dim);
    check_true(grp, "gather_words rejects an out-of-range index",
               !ma::gather_words(x.data(), ind.data(), out.data(), batch, outer, dim, slice, nidx), "returned true");
  }
}

// ---------------------------------------------------------------------------------------------
// Optimizers: the formula in double (tolerance) and tfjs's float32 order of operations (exact).
void run_optim(Rng& rng) {
  Group grp("optimizers");
  for (const idx n : {idx(1), idx(37), idx(70001)}) {
    std::vector<float> val = rand_vec(rng, n), m = rand_vec(rng, n, -0.1f, 0.1f), v = rand_vec(rng, n, 0.f, 0.01f),
                       grad = rand_vec(rng, n);
    for (const float decay : {1.f, 0.999f}) {
      ma::AdamParams p{};
      p.beta1 = 0.9f;
      p.one_minus_beta1 = 1.f - 0.9f;
      p.beta2 = 0.999f;
      p.one_minus_beta2 = 1.f - 0.999f;
      p.one_minus_acc_beta1 = 1.f - 0.9f * 0.9f * 0.9f;
      p.one_minus_acc_beta2 = 1.f - 0.999f * 0.999f * 0.999f;
      p.epsilon = 1e-7f;
      p.neg_lr = -0.01f;
      p.decay = decay;
      std::vector<float> nv(static_cast<size_t>(n)), nm(static_cast<size_t>(n)), nvv(static_cast<size_t>(n));
      ma::adam_update(val.data(), m.data(), v.data(), grad.data(), nv.data(), nm.data(), nvv.data(), n, p);
      std::vector<double> rv(static_cast<size_t>(n)), rm(static_cast<size_t>(n)), rvv(static_cast<size_t>(n));
      std::vector<float> ev(static_cast<size_t>(n)), em(static_cast<size_t>(n)), evv(static_cast<size_t>(n));
      for (idx i = 0; i < n; ++i) {
        const double g = grad[i];
        const double m1 = p.beta1 * static_cast<double>(m[i]) + static_cast<double>(p.one_minus_beta1) * g;
        const double v1 = p.beta2 * static_cast<double>(v[i]) + static_cast<double>(p.one_minus_beta2) * g * g;
        rm[i] = m1;
        rvv[i] = v1;
        rv[i] = static_cast<double>(val[i]) * decay +
                p.neg_lr * (m1 / p.one_minus_acc_beta1) / (std::sqrt(v1 / p.one_minus_acc_beta2) + p.epsilon);
        // float32, tfjs's order (the header documents bit-identical results)
        const float gf = grad[i];
        const float m1f = m[i] * p.beta1 + gf * p.one_minus_beta1;
        const float v1f = v[i] * p.beta2 + (gf * gf) * p.one_minus_beta2;
        const float den = std::sqrt(v1f / p.one_minus_acc_beta2) + p.epsilon;
        const float base = decay == 1.f ? val[i] : val[i] * decay;
        ev[i] = ((m1f / p.one_minus_acc_beta1) / den) * p.neg_lr + base;
        em[i] = m1f;
        evv[i] = v1f;
      }
      const std::string what = fmt("adam n=%td decay=%g", n, static_cast<double>(decay));
      check_near(grp, what + " value", nv.data(), rv.data(), n);
      check_near(grp, what + " m", nm.data(), rm.data(), n);
      check_near(grp, what + " v", nvv.data(), rvv.data(), n);
      check_exact(grp, what + " value, float32 order (bit-exact)", nv.data(), ev.data(), n);
      check_exact(grp, what + " m, v (bit-exact)", nm.data(), em.data(), n);
      check_exact(grp, what + " v (bit-exact)", nvv.data(), evv.data(), n);
      // in place: the same bits written over value, m and v
      std::vector<float> iv = val, im = m, iv2 = v;
      ma::adam_update_inplace(iv.data(), im.data(), iv2.data(), grad.data(), n, p);
      check_exact(grp, what + " in place: value (bit-exact)", iv.data(), ev.data(), n);
      check_exact(grp, what + " in place: m (bit-exact)", im.data(), em.data(), n);
      check_exact(grp, what + " in place: v (bit-exact)", iv2.data(), evv.data(), n);
    }
    for (const bool nesterov : {false, true}) {
      const float mom = 0.9f, neg_lr = -0.05f;
      std::vector<float> nv(static_cast<size_t>(n)), na(static_cast<size_t>(n));
      ma::momentum_update(val.data(), m.data(), grad.data(), nv.data(), na.data(), n, mom, neg_lr, nesterov);
      std::vector<double> rv(static_cast<size_t>(n)), ra(static_cast<size_t>(n));
      for (idx i = 0; i < n; ++i) {
        const double a = static_cast<double>(mom) * m[i] + grad[i];
        ra[i] = a;
        rv[i] = nesterov ? static_cast<double>(val[i]) + neg_lr * (grad[i] + a * mom) : static_cast<double>(val[i]) + neg_lr * a;
      }
      const std::string what = fmt("momentum n=%td nesterov=%d", n, nesterov);
      check_near(grp, what + " value", nv.data(), rv.data(), n);
      check_near(grp, what + " acc", na.data(), ra.data(), n);
    }
    std::vector<float> nv(static_cast<size_t>(n));
    std::vector<double> rv(static_cast<size_t>(n));
    ma::sgd_update(val.data(), grad.data(), nv.data(), n, -0.05f);
    for (idx i = 0; i < n; ++i) rv[i] = static_cast<double>(val[i]) - 0.05 * static_cast<double>(grad[i]);
    check_near(grp, fmt("sgd n=%td", n), nv.data(), rv.data(), n);
  }
  // Flush-to-zero (denormals.h): subnormal moments read and write as zero inside the update,
  // and the caller's floating-point mode is restored afterwards.
  {
    const idx n = 16;
    std::vector<float> val(n, 0.5f), m(n, 1e-39f), v(n, 1e-39f), grad(n, 0.f), nv(n), nm(n), nvv(n);
    ma::AdamParams p{0.9f, 0.1f, 0.999f, 0.001f, 0.1f, 0.001f, 1e-7f, -0.01f, 1.f};
    ma::adam_update(val.data(), m.data(), v.data(), grad.data(), nv.data(), nm.data(), nvv.data(), n, p);
    bool zero = true, val_ok = true;
    for (idx i = 0; i < n; ++i) {
      zero = zero && nm[i] == 0.f && nvv[i] == 0.f;
      val_ok = val_ok && nv[i] == 0.5f;
    }
    check_true(grp, "adam flushes subnormal moments to zero", zero, "a subnormal moment survived the update");
    check_true(grp, "adam with subnormal moments leaves the value", val_ok, "value changed");
    volatile float tiny = 1e-30f, scale = 1e-10f;
    const float sub = tiny * scale;  // 1e-40: subnormal unless flush-to-zero leaked to this thread
    check_true(grp, "floating-point mode restored after the update", sub != 0.f, "flush-to-zero left on");
  }
}

// ---------------------------------------------------------------------------------------------
// Thread pool
void run_pool_checks() {
  Group grp("thread pool");
  ma::ThreadPool& pool = ma::ThreadPool::instance();
  const int threads = pool.threads();
  {
    std::vector<int> hits(1000, 0);
    pool.parallel_for(1000, [&](int t) { hits[static_cast<size_t>(t)] += 1; });
    bool ok = true;
    for (int h : hits) ok = ok && h == 1;
    check_true(grp, fmt("parallel_for runs each of 1000 tasks once (threads=%d)", threads), ok, "a task ran 0 or 2+ times");
  }
  {
    std::vector<int> inner(64, 0);
    pool.parallel_for(8, [&](int t) {
      pool.parallel_for(8, [&](int u) { inner[static_cast<size_t>(t * 8 + u)] += 1; });
    });
    bool ok = true;
    for (int h : inner) ok = ok && h == 1;
    check_true(grp, "nested parallel_for runs serially and completely", ok, "nested tasks lost or repeated");
  }
  {
    bool caught = false;
    try {
      pool.parallel_for(16, [&](int t) {
        if (t == 5) throw std::runtime_error("task 5");
      });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "task 5";
    }
    check_true(grp, "an exception in a task reaches the caller", caught, "exception lost");
    std::vector<int> hits(100, 0);
    pool.parallel_for(100, [&](int t) { hits[static_cast<size_t>(t)] += 1; });
    bool ok = true;
    for (int h : hits) ok = ok && h == 1;
    check_true(grp, "the pool works after an exception", ok, "pool broken after an exception");
  }
}

// ---------------------------------------------------------------------------------------------

struct Pass {
  int cap;
  const char* label;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::string compiler = kCompiler;
  while (!compiler.empty() && compiler.back() == ' ') compiler.pop_back();
  std::printf("kernel_check: %s, %s\n", kArch, compiler.c_str());

  // Every instruction set this binary has and this CPU runs: the portable path is checked on
  // x86 too (gemm_set_isa_cap: 0 = best, 2 = up to AVX2, 1 = portable).
  std::vector<int> caps;
  std::string isas;
  for (int cap : {0, 2, 1}) {
    ma::gemm_set_isa_cap(cap);
    const std::string isa = ma::gemm_isa();
    if (isas.find(isa) != std::string::npos) continue;
    caps.push_back(cap);
    isas += (isas.empty() ? "" : ", ") + isa;
  }
  std::printf("instruction sets: %s\n", isas.c_str());

  const int pool_threads = 3;
  for (int cap : caps) {
    ma::gemm_set_isa_cap(cap);
    const std::string isa = ma::gemm_isa();
    for (int threads : {1, pool_threads}) {
      if (quick && threads != 1) continue;
      ma::ThreadPool::instance().set_threads(threads);
      g_context = fmt("isa=%s threads=%d", isa.c_str(), threads);
      Rng rng(0x5eed0000ull + static_cast<uint64_t>(cap * 16 + threads));
      run_gemm(rng, 1);
      if (threads > 1) run_gemm(rng, 0);
      run_conv(rng);
      run_depthwise(rng);
      run_pool(rng);
      run_elementwise(rng);
      run_reduce(rng);
      run_optim(rng);
      run_pool_checks();
    }
  }
  ma::gemm_set_isa_cap(0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (g_failures > 0) {
    std::printf("kernel_check: %d of %d checks FAILED on %s (%s), %.1f s\n", g_failures, g_total_checks, isas.c_str(),
                kArch, secs);
    return 1;
  }
  std::printf("kernel_check: %d checks passed on %s (%s) in %.1f s\n", g_total_checks, isas.c_str(), kArch, secs);
  return 0;
}
