// Bindings for elementwise, reduction and layout kernels.
#include <vector>

#include "bindings.h"
#include "elementwise.h"
#include "napi_args.h"
#include "reduce.h"

namespace ma {
namespace {

// params: [rank, shape..., a strides..., b strides...]
BroadcastGeom geom_arg(const Params& p, Napi::Env env, idx a_len, idx b_len, idx out_len) {
  BroadcastGeom g{};
  const idx rank = p.at(0);
  if (rank < 0 || rank > kMaxRank) throw Napi::RangeError::New(env, "broadcast: rank out of range");
  g.rank = static_cast<int>(rank);
  idx hi_a = 0, hi_b = 0, total = 1;
  for (int d = 0; d < g.rank; ++d) {
    g.shape[d] = p.at(1 + d);
    g.sa[d] = p.at(1 + rank + d);
    g.sb[d] = p.at(1 + 2 * rank + d);
    if (g.shape[d] < 0 || g.sa[d] < 0 || g.sb[d] < 0) throw Napi::RangeError::New(env, "broadcast: negative size");
    total *= g.shape[d];
    if (g.shape[d] > 0) {
      hi_a += (g.shape[d] - 1) * g.sa[d];
      hi_b += (g.shape[d] - 1) * g.sb[d];
    }
  }
  check_len(env, "broadcast out", out_len, total);
  if (total > 0 && (hi_a >= a_len || hi_b >= b_len)) throw Napi::RangeError::New(env, "broadcast: index out of range");
  return g;
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  const idx op = int_arg(info, 0);
  Span<float> a = f32_arg(info, 1), b = f32_arg(info, 2), out = f32_arg(info, 3);
  BroadcastGeom g = geom_arg(params_arg(info, 4), info.Env(), a.len, b.len, out.len);
  if (!binary_f32(static_cast<BinOp>(op), a.data, b.data, out.data, g))
    throw Napi::RangeError::New(info.Env(), "binary: unknown op");
  return info.Env().Undefined();
}

Napi::Value Compare(const Napi::CallbackInfo& info) {
  const idx op = int_arg(info, 0);
  Span<float> a = f32_arg(info, 1), b = f32_arg(info, 2);
  Span<uint8_t> out = u8_arg(info, 3);
  BroadcastGeom g = geom_arg(params_arg(info, 4), info.Env(), a.len, b.len, out.len);
  if (!compare_f32(static_cast<CmpOp>(op), a.data, b.data, out.data, g))
    throw Napi::RangeError::New(info.Env(), "compare: unknown op");
  return info.Env().Undefined();
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  const idx op = int_arg(info, 0);
  Span<float> x = f32_arg(info, 1), out = f32_arg(info, 2);
  check_len(info.Env(), "unary out", out.len, x.len);
  if (!unary_f32(static_cast<UnOp>(op), x.data, out.data, x.len, num_arg(info, 3), num_arg(info, 4)))
    throw Napi::RangeError::New(info.Env(), "unary: unknown op");
  return info.Env().Undefined();
}

Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray()) throw Napi::TypeError::New(env, "addN: expected an array of Float32Array");
  Napi::Array list = info[0].As<Napi::Array>();
  Span<float> out = f32_arg(info, 1);
  std::vector<const float*> ptrs;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value v = list.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, "addN: expected an array of Float32Array");
    auto f = v.As<Napi::Float32Array>();
    check_len(env, "addN input", static_cast<idx>(f.ElementLength()), out.len);
    ptrs.push_back(f.Data());
  }
  add_n(ptrs.data(), static_cast<int>(ptrs.size()), out.data, out.len);
  return env.Undefined();
}

Napi::Value Select(const Napi::CallbackInfo& info) {
  Span<uint8_t> c = u8_arg(info, 0);
  Span<float> t = f32_arg(info, 1), e = f32_arg(info, 2), out = f32_arg(info, 3);
  check_len(info.Env(), "select", std::min(std::min(c.len, t.len), e.len), out.len);
  select_f32(c.data, t.data, e.data, out.data, out.len);
  return info.Env().Undefined();
}

Napi::Value EluGrad(const Napi::CallbackInfo& info) {
  Span<float> dy = f32_arg(info, 0), y = f32_arg(info, 1), out = f32_arg(info, 2);
  check_len(info.Env(), "eluGrad", std::min(dy.len, y.len), out.len);
  elu_grad(dy.data, y.data, out.data, out.len);
  return info.Env().Undefined();
}

// reluGrad(dy, x, out, sums | null, cols)
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> dy = f32_arg(info, 0), x = f32_arg(info, 1), out = f32_arg(info, 2);
  Span<float> sums = opt_f32_arg(info, 3);
  const idx cols = int_arg(info, 4);
  check_len(env, "reluGrad", std::min(dy.len, x.len), out.len);
  if (sums.data != nullptr) {
    if (cols < 1 || out.len % cols != 0) throw Napi::RangeError::New(env, "reluGrad: rows do not divide the input");
    check_len(env, "reluGrad sums", sums.len, cols);
  }
  relu_grad(dy.data, x.data, out.data, out.len, cols, sums.data);
  return env.Undefined();
}

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const idx op = int_arg(info, 0);
  if (op < 0 || op > static_cast<idx>(RedOp::kArgMin)) throw Napi::RangeError::New(env, "reduce: unknown op");
  Span<float> x = f32_arg(info, 1);
  const idx O = int_arg(info, 3), R = int_arg(info, 4), I = int_arg(info, 5);
  check_len(env, "reduce input", x.len, O * R * I);
  const bool arg = op == static_cast<idx>(RedOp::kArgMax) || op == static_cast<idx>(RedOp::kArgMin);
  if (arg) {
    Span<int32_t> out = i32_arg(info, 2);
    check_len(env, "reduce out", out.len, O * I);
    reduce_f32(static_cast<RedOp>(op), x.data, nullptr, out.data, O, R, I);
  } else {
    Span<float> out = f32_arg(info, 2);
    check_len(env, "reduce out", out.len, O * I);
    reduce_f32(static_cast<RedOp>(op), x.data, out.data, nullptr, O, R, I);
  }
  return env.Undefined();
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Span<float> x = f32_arg(info, 0), out = f32_arg(info, 1);
  const idx rows = int_arg(info, 2), cols = int_arg(info, 3);
  check_len(info.Env(), "softmax", std::min(x.len, out.len), rows * cols);
  softmax_rows(x.data, out.data, rows, cols, info.Length() > 4 && info[4].ToBoolean().Value());
  return info.Env().Undefined();
}

// softmaxGrad(dy, y, out, rows, cols)
Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  Span<float> dy = f32_arg(info, 0), y = f32_arg(info, 1), out = f32_arg(info, 2);
  const idx rows = int_arg(info, 3), cols = int_arg(info, 4);
  if (rows < 0 || cols < 0) throw Napi::RangeError::New(info.Env(), "softmaxGrad: negative size");
  check_len(info.Env(), "softmaxGrad dy", dy.len, rows * cols);
  check_len(info.Env(), "softmaxGrad y", y.len, rows * cols);
  check_len(info.Env(), "softmaxGrad out", out.len, rows * cols);
  softmax_grad_rows(dy.data, y.data, out.data, rows, cols);
  return info.Env().Undefined();
}

// categoricalCrossentropy(target, output, loss, rows, cols, eps)
Napi::Value CategoricalCrossentropy(const Napi::CallbackInfo& info) {
  Span<float> t = f32_arg(info, 0), o = f32_arg(info, 1), loss = f32_arg(info, 2);
  const idx rows = int_arg(info, 3), cols = int_arg(info, 4);
  if (rows < 0 || cols < 0) throw Napi::RangeError::New(info.Env(), "categoricalCrossentropy: negative size");
  check_len(info.Env(), "categoricalCrossentropy target", t.len, rows * cols);
  check_len(info.Env(), "categoricalCrossentropy output", o.len, rows * cols);
  check_len(info.Env(), "categoricalCrossentropy loss", loss.len, rows);
  categorical_crossentropy_rows(t.data, o.data, loss.data, rows, cols, num_arg(info, 5));
  return info.Env().Undefined();
}

// categoricalCrossentropyGrad(dloss, target, output, grad, rows, cols, eps)
Napi::Value CategoricalCrossentropyGrad(const Napi::CallbackInfo& info) {
  Span<float> dl = f32_arg(info, 0), t = f32_arg(info, 1), o = f32_arg(info, 2), g = f32_arg(info, 3);
  const idx rows = int_arg(info, 4), cols = int_arg(info, 5);
  if (rows < 0 || cols < 0) throw Napi::RangeError::New(info.Env(), "categoricalCrossentropyGrad: negative size");
  check_len(info.Env(), "categoricalCrossentropyGrad dloss", dl.len, rows);
  check_len(info.Env(), "categoricalCrossentropyGrad target", t.len, rows * cols);
  check_len(info.Env(), "categoricalCrossentropyGrad output", o.len, rows * cols);
  check_len(info.Env(), "categoricalCrossentropyGrad grad", g.len, rows * cols);
  categorical_crossentropy_grad_rows(dl.data, t.data, o.data, g.data, rows, cols, num_arg(info, 6));
  return info.Env().Undefined();
}

// transpose(x, out, [rank, shape..., perm...])
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<uint32_t> x = word_arg(info, 0), out = word_arg(info, 1);
  Params p = params_arg(info, 2);
  const idx rank = p.at(0);
  if (rank < 0 || rank > kMaxRank) throw Napi::RangeError::New(env, "transpose: rank out of range");
  idx shape[kMaxRank];
  int perm[kMaxRank];
  bool seen[kMaxRank] = {false};
  idx total = 1;
  for (idx d = 0; d < rank; ++d) {
    shape[d] = p.at(1 + d);
    if (shape[d] < 0) throw Napi::RangeError::New(env, "transpose: negative size");
    total *= shape[d];
    const idx q = p.at(1 + rank + d);
    if (q < 0 || q >= rank || seen[q]) throw Napi::RangeError::New(env, "transpose: invalid permutation");
    seen[q] = true;
    perm[d] = static_cast<int>(q);
  }
  check_len(env, "transpose input", x.len, total);
  check_len(env, "transpose out", out.len, total);
  transpose_words(x.data, out.data, static_cast<int>(rank), shape, perm);
  return env.Undefined();
}

// gather(x, indices, out, [batch, outer, dim, slice, nidx]) -> false if an index is out of range
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<uint32_t> x = word_arg(info, 0);
  Span<int32_t> ind = i32_arg(info, 1);
  Span<uint32_t> out = word_arg(info, 2);
  Params p = params_arg(info, 3);
  const idx batch = p.at(0), outer = p.at(1), dim = p.at(2), slice = p.at(3), nidx = p.at(4);
  if (batch < 0 || outer < 0 || dim < 0 || slice < 0 || nidx < 0) throw Napi::RangeError::New(env, "gather: negative size");
  check_len(env, "gather input", x.len, batch * outer * dim * slice);
  check_len(env, "gather indices", ind.len, batch * nidx);
  check_len(env, "gather out", out.len, batch * outer * nidx * slice);
  return Napi::Boolean::New(env, gather_words(x.data, ind.data, out.data, batch, outer, dim, slice, nidx));
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("compare", Napi::Function::New(env, Compare, "compare"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("addN", Napi::Function::New(env, AddN, "addN"));
  exports.Set("select", Napi::Function::New(env, Select, "select"));
  exports.Set("eluGrad", Napi::Function::New(env, EluGrad, "eluGrad"));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad, "reluGrad"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad, "softmaxGrad"));
  exports.Set("categoricalCrossentropy", Napi::Function::New(env, CategoricalCrossentropy, "categoricalCrossentropy"));
  exports.Set("categoricalCrossentropyGrad",
              Napi::Function::New(env, CategoricalCrossentropyGrad, "categoricalCrossentropyGrad"));
  exports.Set("transpose", Napi::Function::New(env, Transpose, "transpose"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
}

}  // namespace ma
