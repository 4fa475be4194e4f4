// matmul(a, b, out, params, bias?, prelu?) — batched C[b] = op(A[b]) * op(B[b]) with fused
// bias + activation. Batch broadcasting is resolved in JS into per-batch element offsets.
#include <algorithm>

#include "bindings.h"
#include "gemm.h"
#include "napi_args.h"
#include "thread_pool.h"

namespace ma {
namespace {

constexpr idx kHeader = 14;
constexpr idx kPerBatch = 4;

Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> a = f32_arg(info, 0), b = f32_arg(info, 1), out = f32_arg(info, 2);
  Params p = params_arg(info, 3);
  Span<float> bias = opt_f32_arg(info, 4), prelu = opt_f32_arg(info, 5);

  const idx batch = p.at(0), M = p.at(1), N = p.at(2), K = p.at(3);
  if (batch < 0 || M < 0 || N < 0 || K < 0) throw Napi::RangeError::New(env, "matmul: negative size");
  GemmProblem g;
  g.M = M;
  g.N = N;
  g.K = K;
  g.a_rs = p.at(4);
  g.a_cs = p.at(5);
  g.b_rs = p.at(6);
  g.b_cs = p.at(7);
  g.c_rs = N;
  const int act = static_cast<int>(p.at(8));
  if (act < 0 || act > static_cast<int>(Act::kPrelu)) throw Napi::RangeError::New(env, "matmul: unknown activation");
  g.ep.act = static_cast<Act>(act);
  g.ep.alpha = static_cast<float>(p.num(9));
  g.ep.bias_rs = p.at(10);
  g.ep.bias_cs = p.at(11);
  g.ep.prelu_rs = p.at(12);
  g.ep.prelu_cs = p.at(13);
  if (g.ep.act == Act::kPrelu && prelu.data == nullptr) throw Napi::TypeError::New(env, "matmul: prelu weights missing");
  check_len(env, "matmul params", p.n, kHeader + batch * kPerBatch);
  check_len(env, "matmul out", out.len, batch * M * N);

  for (idx bi = 0; bi < batch; ++bi) {
    const idx ao = p.at(kHeader + bi * kPerBatch), bo = p.at(kHeader + bi * kPerBatch + 1);
    check_span(env, "matmul a", a.len, ao, {{M, g.a_rs}, {K, g.a_cs}});
    check_span(env, "matmul b", b.len, bo, {{K, g.b_rs}, {N, g.b_cs}});
    if (bias.data != nullptr)
      check_span(env, "matmul bias", bias.len, p.at(kHeader + bi * kPerBatch + 2), {{M, g.ep.bias_rs}, {N, g.ep.bias_cs}});
    if (g.ep.act == Act::kPrelu)
      check_span(env, "matmul prelu", prelu.len, p.at(kHeader + bi * kPerBatch + 3), {{M, g.ep.prelu_rs}, {N, g.ep.prelu_cs}});
  }

  auto one = [&](idx bi, int threads) {
    GemmProblem s = g;
    s.A = a.data + p.at(kHeader + bi * kPerBatch);
    s.B = b.data + p.at(kHeader + bi * kPerBatch + 1);
    s.C = out.data + bi * M * N;
    if (bias.data != nullptr) s.ep.bias = bias.data + p.at(kHeader + bi * kPerBatch + 2);
    if (prelu.data != nullptr) s.ep.prelu = prelu.data + p.at(kHeader + bi * kPerBatch + 3);
    sgemm(s, threads);
  };
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  ThreadPool& pool = ThreadPool::instance();
  if (batch > 1 && pool.threads() > 1 && flops < 4.0e6) {
    // Many small products: one product per task beats splitting each product.
    const int tasks = static_cast<int>(std::min<idx>(batch, 4 * pool.threads()));
    const idx per = ceil_div(batch, tasks);
    pool.parallel_for(tasks, [&](int t) {
      for (idx bi = t * per; bi < std::min(batch, (t + 1) * per); ++bi) one(bi, 1);
    });
  } else {
    for (idx bi = 0; bi < batch; ++bi) one(bi, 0);
  }
  return env.Undefined();
}

}  // namespace

void register_matmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, MatMul, "matmul"));
}

}  // namespace ma
