// Bindings for the fused optimizer updates. Scalars arrive as float32-exact doubles.
#include "bindings.h"
#include "napi_args.h"
#include "optim.h"

namespace ma {
namespace {

// adam(value, m, v, grad, newValue, newM, newV, [beta1, 1-beta1, beta2, 1-beta2, 1-accBeta1,
//      1-accBeta2, epsilon, -lr, decay])
// In place when newValue/newM/newV are value/m/v themselves (all three or none: the loops
// declare their arrays non-overlapping).
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> s[7];
  for (int i = 0; i < 7; ++i) {
    s[i] = f32_arg(info, i);
    check_len(env, "adam", s[i].len, s[0].len);
  }
  Params p = params_arg(info, 7);
  AdamParams ap{};
  ap.beta1 = static_cast<float>(p.num(0));
  ap.one_minus_beta1 = static_cast<float>(p.num(1));
  ap.beta2 = static_cast<float>(p.num(2));
  ap.one_minus_beta2 = static_cast<float>(p.num(3));
  ap.one_minus_acc_beta1 = static_cast<float>(p.num(4));
  ap.one_minus_acc_beta2 = static_cast<float>(p.num(5));
  ap.epsilon = static_cast<float>(p.num(6));
  ap.neg_lr = static_cast<float>(p.num(7));
  ap.decay = static_cast<float>(p.num(8));
  const bool in_place = s[4].data == s[0].data && s[5].data == s[1].data && s[6].data == s[2].data;
  if (in_place) {
    adam_update_inplace(s[0].data, s[1].data, s[2].data, s[3].data, s[0].len, ap);
    return env.Undefined();
  }
  for (int i = 4; i < 7; ++i)
    for (int j = 0; j < 7; ++j)
      if (i != j && s[i].data == s[j].data && s[0].len > 0)
        throw Napi::RangeError::New(env, "adam: outputs must be distinct from the other arrays, or all in place");
  adam_update(s[0].data, s[1].data, s[2].data, s[3].data, s[4].data, s[5].data, s[6].data, s[0].len, ap);
  return env.Undefined();
}

// momentum(value, acc, grad, newValue, newAcc, momentum, -lr, nesterov)
Napi::Value Momentum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> s[5];
  for (int i = 0; i < 5; ++i) {
    s[i] = f32_arg(info, i);
    check_len(env, "momentum", s[i].len, s[0].len);
  }
  momentum_update(s[0].data, s[1].data, s[2].data, s[3].data, s[4].data, s[0].len, static_cast<float>(num_arg(info, 5)),
                  static_cast<float>(num_arg(info, 6)), info.Length() > 7 && info[7].ToBoolean().Value());
  return env.Undefined();
}

// sgd(value, grad, newValue, -lr)
Napi::Value Sgd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> value = f32_arg(info, 0), grad = f32_arg(info, 1), out = f32_arg(info, 2);
  check_len(env, "sgd", grad.len, value.len);
  check_len(env, "sgd", out.len, value.len);
  sgd_update(value.data, grad.data, out.data, value.len, static_cast<float>(num_arg(info, 3)));
  return env.Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("adam", Napi::Function::New(env, Adam, "adam"));
  exports.Set("momentum", Napi::Function::New(env, Momentum, "momentum"));
  exports.Set("sgd", Napi::Function::New(env, Sgd, "sgd"));
}

}  // namespace ma
