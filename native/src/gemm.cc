#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "cpu_features.h"
#include "isa_kernels.h"
#include "thread_pool.h"
#include "ukernel.h"

namespace ma {

namespace {

// Multiply-adds below which a product runs on the calling thread: waking a sleeping worker
// costs tens of microseconds, which is what such a product takes on one core.
constexpr double kThreadMinMacs = 2.0 * 1024 * 1024;

// n: columns of C. The AVX-512 kernel is 32 columns wide; for narrow products (convolutions
// with 16 channels) half of it would be padding, so the 16-wide AVX2 kernel does better there.
const UKernel& select_kernel(idx n = 1 << 30) {
#if defined(MODELAUTO_HAVE_AVX512)
  if (use_avx512() && (n > 16 || !use_avx2())) return ukernel_avx512();
#endif
#if defined(MODELAUTO_HAVE_AVX2)
  if (use_avx2()) return ukernel_avx2();
#endif
  return ukernel_portable();
}

// Splits [0, n) into `parts` chunks whose sizes are multiples of `unit` (except the last).
inline idx chunk_size(idx n, idx parts, idx unit) {
  idx c = ceil_div(n, parts);
  return ceil_div(c, unit) * unit;
}

void pack_b(const GemmProblem& g, idx p0, idx kc, idx j0, idx nc, int nr, float* dst) {
  for (idx jr = 0; jr < nc; jr += nr) {
    const idx cols = std::min<idx>(nr, nc - jr);
    float* d = dst + jr * kc;
    const idx j = j0 + jr;
    if (g.b_cs == 1) {
      const float* src = g.B + p0 * g.b_rs + j;
      for (idx p = 0; p < kc; ++p) {
        std::memcpy(d + p * nr, src + p * g.b_rs, static_cast<size_t>(cols) * sizeof(float));
        for (idx c = cols; c < nr; ++c) d[p * nr + c] = 0.f;
      }
    } else {
      if (cols < nr) std::memset(d, 0, static_cast<size_t>(kc * nr) * sizeof(float));
      for (idx c = 0; c < cols; ++c) {
        const float* src = g.B + p0 * g.b_rs + (j + c) * g.b_cs;
        if (g.b_rs == 1) {
          for (idx p = 0; p < kc; ++p) d[p * nr + c] = src[p];
        } else {
          for (idx p = 0; p < kc; ++p) d[p * nr + c] = src[p * g.b_rs];
        }
      }
    }
  }
}

// pack_rm: the kernel's packer for full slivers of row-major A, or nullptr.
void pack_a(const GemmProblem& g, idx i0, idx mc, idx p0, idx kc, int mr, PackAFn pack_rm, float* dst) {
  for (idx ir = 0; ir < mc; ir += mr) {
    const idx rows = std::min<idx>(mr, mc - ir);
    float* d = dst + ir * kc;
    const idx i = i0 + ir;
    if (g.a_src != nullptr) {
      g.a_src->pack_sliver(g.a_row_offset + i, rows, p0, kc, mr, d);
      continue;
    }
    if (pack_rm != nullptr && g.a_cs == 1 && rows == mr) {
      pack_rm(kc, g.A + i * g.a_rs + p0, g.a_rs, d);
      continue;
    }
    if (g.a_rs == 1) {
      const float* src = g.A + i + p0 * g.a_cs;
      for (idx p = 0; p < kc; ++p) {
        std::memcpy(d + p * mr, src + p * g.a_cs, static_cast<size_t>(rows) * sizeof(float));
        for (idx r = rows; r < mr; ++r) d[p * mr + r] = 0.f;
      }
    } else {
      if (rows < mr) std::memset(d, 0, static_cast<size_t>(kc * mr) * sizeof(float));
      for (idx r = 0; r < rows; ++r) {
        const float* src = g.A + (i + r) * g.a_rs + p0 * g.a_cs;
        if (g.a_cs == 1) {
          for (idx p = 0; p < kc; ++p) d[p * mr + r] = src[p];
        } else {
          for (idx p = 0; p < kc; ++p) d[p * mr + r] = src[p * g.a_cs];
        }
      }
    }
  }
}

// The classic five-loop blocked algorithm on the calling thread.
void gemm_blocked(const GemmProblem& g, const UKernel& uk) {
  thread_local AlignedBuffer a_buf, b_buf, tile_buf;
  const int mr = uk.mr, nr = uk.nr;
  const idx kc_max = ceil_div(g.K, ceil_div(g.K, uk.kc));
  // Whole slivers only: pack_a fills every sliver up to mr rows, so a block of A must hold a
  // multiple of mr rows even when a kernel's mc is not one.
  const idx mc_max = std::min<idx>(ceil_div(g.M, mr) * mr, std::max<idx>(mr, uk.mc / mr * mr));
  const idx nc_max = std::min<idx>(ceil_div(g.N, nr) * nr, uk.nc);
  float* ap = a_buf.get(mc_max * kc_max);
  float* bp = b_buf.get(nc_max * kc_max);
  float* tile = tile_buf.get(mr * nr);
  const bool epi = g.ep.active();

  for (idx jc = 0; jc < g.N; jc += nc_max) {
    const idx nc = std::min(nc_max, g.N - jc);
    for (idx pc = 0; pc < g.K; pc += kc_max) {
      const idx kc = std::min(kc_max, g.K - pc);
      const bool acc = pc > 0 || g.accumulate;
      const bool last = pc + kc == g.K;
      pack_b(g, pc, kc, jc, nc, nr, bp);
      for (idx ic = 0; ic < g.M; ic += mc_max) {
        const idx mc = std::min(mc_max, g.M - ic);
        pack_a(g, ic, mc, pc, kc, mr, uk.pack_a_rm, ap);
        for (idx jr = 0; jr < nc; jr += nr) {
          const idx cols = std::min<idx>(nr, nc - jr);
          for (idx ir = 0; ir < mc; ir += mr) {
            const idx rows = std::min<idx>(mr, mc - ir);
            float* c = g.C + (ic + ir) * g.c_rs + jc + jr;
            if (rows == mr && cols == nr) {
              uk.fn(kc, ap + ir * kc, bp + jr * kc, c, g.c_rs, acc);
            } else {
              uk.fn(kc, ap + ir * kc, bp + jr * kc, tile, nr, false);
              for (idx r = 0; r < rows; ++r) {
                float* cr = c + r * g.c_rs;
                const float* tr = tile + r * nr;
                if (acc) {
                  for (idx q = 0; q < cols; ++q) cr[q] += tr[q];
                } else {
                  for (idx q = 0; q < cols; ++q) cr[q] = tr[q];
                }
              }
            }
            if (last && epi) g.ep.apply(g.C, g.c_rs, ic + ir, jc + jr, rows, cols);
          }
        }
      }
    }
  }
}

// y(j) = sum_p x(p) * B(p, j), for the M == 1 case (and N == 1 by transposition): packing would
// cost as much as the product itself, so stream B once.
struct Gemv {
  idx n, k;
  const float* x;
  idx incx;
  const float* B;
  idx b_rs, b_cs;
  float* y;
  idx incy;
  bool accumulate;
  const Epilogue* ep;
  // Element j of y is C(0, j) when M == 1 and C(j, 0) when N == 1: the stride that walks the
  // bias/prelu operands along y.
  idx bias_stride, prelu_stride;
};

void gemv_range(const Gemv& v, idx j0, idx j1) {
  float acc[256];
  for (idx jb = j0; jb < j1; jb += 256) {
    const idx cnt = std::min<idx>(256, j1 - jb);
    if (v.b_cs == 1) {
      for (idx j = 0; j < cnt; ++j) acc[j] = 0.f;
      for (idx p = 0; p < v.k; ++p) {
        const float xp = v.x[p * v.incx];
        const float* row = v.B + p * v.b_rs + jb;
        for (idx j = 0; j < cnt; ++j) acc[j] += xp * row[j];
      }
    } else {
      for (idx j = 0; j < cnt; ++j) {
        const float* col = v.B + (jb + j) * v.b_cs;
        float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        idx p = 0;
        if (v.b_rs == 1 && v.incx == 1) {
          for (; p + 8 <= v.k; p += 8)
            for (int u = 0; u < 8; ++u) s[u] += v.x[p + u] * col[p + u];
        }
        float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
        for (; p < v.k; ++p) t += v.x[p * v.incx] * col[p * v.b_rs];
        acc[j] = t;
      }
    }
    for (idx j = 0; j < cnt; ++j) {
      float* yj = v.y + (jb + j) * v.incy;
      float r = v.accumulate ? *yj + acc[j] : acc[j];
      *yj = r;
    }
    if (v.ep != nullptr && v.ep->active()) {
      for (idx j = 0; j < cnt; ++j) {
        const idx jj = jb + j;
        float* yj = v.y + jj * v.incy;
        float r = *yj;
        if (v.ep->bias) r += v.ep->bias[jj * v.bias_stride];
        const float w = v.ep->prelu ? v.ep->prelu[jj * v.prelu_stride] : 0.f;
        *yj = apply_act(v.ep->act, r, v.ep->alpha, w);
      }
    }
  }
}

void run_gemv(const Gemv& v, int threads) {
  const double work = static_cast<double>(v.n) * static_cast<double>(v.k);
  int tasks = 1;
  if (threads > 1 && work >= kThreadMinMacs) tasks = static_cast<int>(std::min<idx>(threads, ceil_div(v.n, 64)));
  if (tasks <= 1) {
    gemv_range(v, 0, v.n);
    return;
  }
  const idx chunk = chunk_size(v.n, tasks, 16);
  ThreadPool::instance().parallel_for(tasks, [&](int t) {
    const idx j0 = t * chunk;
    const idx j1 = std::min(v.n, j0 + chunk);
    if (j0 < j1) gemv_range(v, j0, j1);
  });
}

// Row-major A (unit column stride) and few output columns, or an A small enough to stay in cache:
// broadcast A's values from its rows instead of packing it (gemm_rows). Packing A is a scalar
// transpose that costs as much as the arithmetic when N is small, and every thread of the
// blocked GEMM would repeat it.
//
// With a vector packer for row-major A (UKernel::pack_a_rm) that argument holds only for narrow
// products: measured with 2 threads on AVX-512, the blocked kernel beat this path for every
// N > 64 with at least kThreadMinMacs multiply-adds (the MLP's 128x784 * 784x256: 199 vs 143
// GFLOP/s; 256^3: 211 vs 184; 128x512x512: 195 vs 75), while for N <= 64 (3200x64x144: 212 vs
// 223) and for smaller products (16x128x128, 100x70x50) this path stayed as fast or faster.
bool sgemm_broadcast(const GemmProblem& g, int threads) {
  if (g.a_src != nullptr || g.a_cs != 1 || g.accumulate || g.M < 2) return false;
  if (g.N > 64 && g.M * g.K > (idx(1) << 18)) return false;
  if (g.N > 64 && select_kernel(g.N).pack_a_rm != nullptr &&
      static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(g.K) >= kThreadMinMacs)
    return false;
  const IsaKernels& k = isa_kernels();
  const int nr = k.pick_nr(g.N);
  const idx nb = ceil_div(g.N, nr);
  thread_local AlignedBuffer packed;
  float* bp = packed.get(nb * g.K * nr);
  for (idx n = 0; n < nb; ++n) {
    const idx c0 = n * nr, cols = std::min<idx>(nr, g.N - c0);
    for (idx p = 0; p < g.K; ++p) {
      float* d = bp + (n * g.K + p) * nr;
      const float* src = g.B + p * g.b_rs + c0 * g.b_cs;
      if (g.b_cs == 1) {
        std::memcpy(d, src, static_cast<size_t>(cols) * sizeof(float));
      } else {
        for (idx c = 0; c < cols; ++c) d[c] = src[c * g.b_cs];
      }
      for (idx c = cols; c < nr; ++c) d[c] = 0.f;
    }
  }
  const Epilogue* ep = g.ep.active() ? &g.ep : nullptr;
  const double macs = static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(g.K);
  const int tasks = threads > 1 && macs >= kThreadMinMacs ? static_cast<int>(std::min<idx>(2 * threads, ceil_div(g.M, 8))) : 1;
  if (tasks <= 1) {
    k.gemm_rows(g.A, g.a_rs, bp, g.K, g.N, nr, g.C, g.c_rs, ep, 0, g.M);
    return true;
  }
  const idx chunk = ceil_div(g.M, tasks);
  ThreadPool::instance().parallel_for(tasks, [&](int t) {
    const idx m0 = t * chunk, m1 = std::min(g.M, m0 + chunk);
    if (m0 < m1) k.gemm_rows(g.A, g.a_rs, bp, g.K, g.N, nr, g.C, g.c_rs, ep, m0, m1);
  });
  return true;
}

}  // namespace

float apply_act(Act act, float v, float alpha, float prelu_w) {
  switch (act) {
    case Act::kLinear:
      return v;
    case Act::kRelu:
      return v < 0.f ? 0.f : v;
    case Act::kRelu6:
      return v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    case Act::kElu:
      return v >= 0.f ? v : std::expm1(v);
    case Act::kLeakyRelu:
      return v < 0.f ? alpha * v : v;
    case Act::kSigmoid:
      return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v))));
    case Act::kPrelu:
      return v < 0.f ? prelu_w * v : v;
  }
  return v;
}

void Epilogue::apply(float* c, idx c_rs, idx i0, idx j0, idx rows, idx cols) const {
  for (idx r = 0; r < rows; ++r) {
    const idx i = i0 + r;
    float* cr = c + i * c_rs + j0;
    if (bias != nullptr) {
      const float* br = bias + i * bias_rs + j0 * bias_cs;
      if (bias_cs == 1) {
        for (idx q = 0; q < cols; ++q) cr[q] += br[q];
      } else {
        for (idx q = 0; q < cols; ++q) cr[q] += br[q * bias_cs];
      }
    }
    switch (act) {
      case Act::kLinear:
        break;
      case Act::kRelu:
        for (idx q = 0; q < cols; ++q) cr[q] = cr[q] < 0.f ? 0.f : cr[q];
        break;
      case Act::kRelu6:
        for (idx q = 0; q < cols; ++q) cr[q] = cr[q] < 0.f ? 0.f : (cr[q] > 6.f ? 6.f : cr[q]);
        break;
      case Act::kLeakyRelu:
        for (idx q = 0; q < cols; ++q) cr[q] = cr[q] < 0.f ? alpha * cr[q] : cr[q];
        break;
      case Act::kPrelu: {
        const float* pr = prelu + i * prelu_rs + j0 * prelu_cs;
        for (idx q = 0; q < cols; ++q) cr[q] = cr[q] < 0.f ? pr[q * prelu_cs] * cr[q] : cr[q];
        break;
      }
      default:
        for (idx q = 0; q < cols; ++q) cr[q] = apply_act(act, cr[q], alpha, 0.f);
        break;
    }
  }
}

const char* gemm_isa() { return select_kernel().isa; }

void gemm_set_isa_cap(int cap) { set_isa_cap(cap); }

void sgemm(const GemmProblem& g, int max_threads) {
  if (g.M <= 0 || g.N <= 0) return;
  ThreadPool& pool = ThreadPool::instance();
  int threads = max_threads > 0 ? std::min(max_threads, pool.threads()) : pool.threads();

  if (g.K <= 0) {
    for (idx i = 0; i < g.M; ++i) {
      float* cr = g.C + i * g.c_rs;
      if (!g.accumulate) std::fill(cr, cr + g.N, 0.f);
    }
    if (g.ep.active()) g.ep.apply(g.C, g.c_rs, 0, 0, g.M, g.N);
    return;
  }

  if (g.a_src == nullptr && (g.M == 1 || g.N == 1)) {
    Gemv v;
    if (g.M == 1) {
      v = Gemv{g.N, g.K, g.A, g.a_cs, g.B, g.b_rs, g.b_cs, g.C, 1, g.accumulate, &g.ep, g.ep.bias_cs, g.ep.prelu_cs};
    } else {
      // C(i, 0) = sum_p B(p, 0) * A(i, p): a row vector times A^T.
      v = Gemv{g.M, g.K, g.B, g.b_rs, g.A, g.a_cs, g.a_rs, g.C, g.c_rs, g.accumulate, &g.ep, g.ep.bias_rs, g.ep.prelu_rs};
    }
    run_gemv(v, threads);
    return;
  }

  if (sgemm_broadcast(g, threads)) return;

  const UKernel& uk = select_kernel(g.N);
  const double macs = static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(g.K);
  if (macs < kThreadMinMacs) threads = 1;
  const idx mblocks = ceil_div(g.M, uk.mr), nblocks = ceil_div(g.N, uk.nr);
  if (threads <= 1 || mblocks * nblocks < 2) {
    gemm_blocked(g, uk);
    return;
  }

  // Give each thread its own block of C and let it pack what it needs: no barriers. Pick the
  // grid that packs the least redundant data (every column block re-packs its rows of A, every
  // row block re-packs its columns of B). Twice as many tasks as threads lets the caller pick up
  // the slack when another process holds one of the cores.
  //
  // Packing weights: a task covering all N columns works through a packed panel of B
  // (kc x N) that, for large N, no longer stays in its core's L2, while a column slice of it does;
  // splitting the columns instead makes every task re-pack all rows of A, which is cheap when
  // the kernel transposes row-major A with vector instructions (or A is column-major: a copy)
  // and expensive when A is assembled element by element (im2col sources, strided A). So with a
  // cheap A and a panel over ~512 KB, a re-packed column of B counts 4 rows of A; otherwise
  // both count the same. Measured on 1024^3, 2 threads (Zen 4, AVX-512, 1 MB L2), interleaved
  // in one process: the 1x4 grid this picks beat 2x2 by ~2% on an idle machine and ~4% with
  // another process on one core.
  const bool cheap_a = g.a_src == nullptr && (g.a_rs == 1 || (g.a_cs == 1 && uk.pack_a_rm != nullptr));
  const idx kc_eff = ceil_div(g.K, ceil_div(g.K, uk.kc));
  const bool big_panel = static_cast<double>(kc_eff) * static_cast<double>(std::min<idx>(g.N, uk.nc)) *
                             sizeof(float) > 512.0 * 1024;
  const double a_weight = 1.0, b_weight = cheap_a && big_panel ? 4.0 : 1.0;
  const int tasks_wanted = static_cast<int>(std::min<idx>(2 * threads, mblocks * nblocks));
  int best_tm = 1, best_tn = tasks_wanted;
  double best_cost = -1;
  for (int tm = 1; tm <= tasks_wanted; ++tm) {
    if (tasks_wanted % tm != 0) continue;
    const int tn = tasks_wanted / tm;
    if (tm > mblocks || tn > nblocks) continue;
    const double cost = a_weight * static_cast<double>(tn) * static_cast<double>(g.M) +
                        b_weight * static_cast<double>(tm) * static_cast<double>(g.N);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best_tm = tm;
      best_tn = tn;
    }
  }
  if (best_cost < 0) {
    best_tm = static_cast<int>(std::min<idx>(tasks_wanted, mblocks));
    best_tn = 1;
  }
  const idx mchunk = chunk_size(g.M, best_tm, uk.mr);
  const idx nchunk = chunk_size(g.N, best_tn, uk.nr);
  const int tm = static_cast<int>(ceil_div(g.M, mchunk));
  const int tn = static_cast<int>(ceil_div(g.N, nchunk));
  pool.parallel_for(tm * tn, [&](int t) {
    const idx i0 = (t / tn) * mchunk, j0 = (t % tn) * nchunk;
    GemmProblem s = g;
    s.M = std::min(mchunk, g.M - i0);
    s.N = std::min(nchunk, g.N - j0);
    if (s.M <= 0 || s.N <= 0) return;
    if (s.a_src != nullptr) {
      s.a_row_offset += i0;
    } else {
      s.A += i0 * g.a_rs;
    }
    s.B += j0 * g.b_cs;
    s.C += i0 * g.c_rs + j0;
    if (s.ep.bias != nullptr) s.ep.bias += i0 * g.ep.bias_rs + j0 * g.ep.bias_cs;
    if (s.ep.prelu != nullptr) s.ep.prelu += i0 * g.ep.prelu_rs + j0 * g.ep.prelu_cs;
    gemm_blocked(s, uk);
  });
}

}  // namespace ma
