// Bindings for convolutions and pooling (NHWC). Geometry: [batch, in_h, in_w, in_c, out_h,
// out_w, out_c, f_h, f_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left]; conv2d and
// depthwise add [act, alpha, bias_cs, prelu_cs].
#include "bindings.h"
#include "conv.h"
#include "napi_args.h"

namespace ma {
namespace {

constexpr idx kGeom = 15;

ConvGeom geom_arg(const Params& p, Napi::Env env) {
  ConvGeom g{};
  idx* f[kGeom] = {&g.batch, &g.in_h,     &g.in_w,     &g.in_c,  &g.out_h, &g.out_w,   &g.out_c,  &g.f_h,
                   &g.f_w,   &g.stride_h, &g.stride_w, &g.dil_h, &g.dil_w, &g.pad_top, &g.pad_left};
  for (idx i = 0; i < kGeom; ++i) *f[i] = p.at(i);
  for (idx i = 0; i < 9; ++i)
    if (*f[i] < 0) throw Napi::RangeError::New(env, "conv: negative size");
  if (g.stride_h < 1 || g.stride_w < 1 || g.dil_h < 1 || g.dil_w < 1)
    throw Napi::RangeError::New(env, "conv: strides and dilations must be >= 1");
  return g;
}

idx in_size(const ConvGeom& g) { return g.batch * g.in_h * g.in_w * g.in_c; }
idx out_size(const ConvGeom& g) { return g.batch * g.out_h * g.out_w * g.out_c; }

Epilogue epilogue_arg(const Params& p, Napi::Env env, const Span<float>& bias, const Span<float>& prelu, idx channels) {
  Epilogue ep;
  const idx act = p.at(kGeom);
  if (act < 0 || act > static_cast<idx>(Act::kPrelu)) throw Napi::RangeError::New(env, "conv: unknown activation");
  ep.act = static_cast<Act>(act);
  ep.alpha = static_cast<float>(p.num(kGeom + 1));
  ep.bias_cs = p.at(kGeom + 2);
  ep.prelu_cs = p.at(kGeom + 3);
  if (bias.data != nullptr) {
    check_span(env, "conv bias", bias.len, 0, {{channels, ep.bias_cs}});
    ep.bias = bias.data;
  }
  if (ep.act == Act::kPrelu) {
    if (prelu.data == nullptr) throw Napi::TypeError::New(env, "conv: prelu weights missing");
    check_span(env, "conv prelu", prelu.len, 0, {{channels, ep.prelu_cs}});
    ep.prelu = prelu.data;
  }
  return ep;
}

// conv2d(x, w, y, params, bias?, prelu?)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> x = f32_arg(info, 0), w = f32_arg(info, 1), y = f32_arg(info, 2);
  Params p = params_arg(info, 3);
  ConvGeom g = geom_arg(p, env);
  Epilogue ep = epilogue_arg(p, env, opt_f32_arg(info, 4), opt_f32_arg(info, 5), g.out_c);
  check_len(env, "conv2d x", x.len, in_size(g));
  check_len(env, "conv2d filter", w.len, g.f_h * g.f_w * g.in_c * g.out_c);
  check_len(env, "conv2d y", y.len, out_size(g));
  conv2d(g, x.data, w.data, y.data, ep);
  return env.Undefined();
}

// conv2dBackpropInput(dy, w, dx, params)
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> dy = f32_arg(info, 0), w = f32_arg(info, 1), dx = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_len(env, "conv2dBackpropInput dy", dy.len, out_size(g));
  check_len(env, "conv2dBackpropInput filter", w.len, g.f_h * g.f_w * g.in_c * g.out_c);
  check_len(env, "conv2dBackpropInput dx", dx.len, in_size(g));
  conv2d_backprop_input(g, dy.data, w.data, dx.data);
  return env.Undefined();
}

// conv2dBackpropFilter(x, dy, dw, params)
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> x = f32_arg(info, 0), dy = f32_arg(info, 1), dw = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_len(env, "conv2dBackpropFilter x", x.len, in_size(g));
  check_len(env, "conv2dBackpropFilter dy", dy.len, out_size(g));
  check_len(env, "conv2dBackpropFilter dw", dw.len, g.f_h * g.f_w * g.in_c * g.out_c);
  conv2d_backprop_filter(g, x.data, dy.data, dw.data);
  return env.Undefined();
}

void check_depthwise(Napi::Env env, const ConvGeom& g) {
  if (g.in_c == 0 || g.out_c % g.in_c != 0) throw Napi::RangeError::New(env, "depthwise: out_c must be a multiple of in_c");
}

Napi::Value Depthwise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> x = f32_arg(info, 0), w = f32_arg(info, 1), y = f32_arg(info, 2);
  Params p = params_arg(info, 3);
  ConvGeom g = geom_arg(p, env);
  check_depthwise(env, g);
  Epilogue ep = epilogue_arg(p, env, opt_f32_arg(info, 4), opt_f32_arg(info, 5), g.out_c);
  check_len(env, "depthwise x", x.len, in_size(g));
  check_len(env, "depthwise filter", w.len, g.f_h * g.f_w * g.out_c);
  check_len(env, "depthwise y", y.len, out_size(g));
  depthwise_conv2d(g, x.data, w.data, y.data, ep);
  return env.Undefined();
}

Napi::Value DepthwiseBackpropInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> dy = f32_arg(info, 0), w = f32_arg(info, 1), dx = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_depthwise(env, g);
  check_len(env, "depthwise dy", dy.len, out_size(g));
  check_len(env, "depthwise filter", w.len, g.f_h * g.f_w * g.out_c);
  check_len(env, "depthwise dx", dx.len, in_size(g));
  depthwise_backprop_input(g, dy.data, w.data, dx.data);
  return env.Undefined();
}

Napi::Value DepthwiseBackpropFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> x = f32_arg(info, 0), dy = f32_arg(info, 1), dw = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_depthwise(env, g);
  check_len(env, "depthwise x", x.len, in_size(g));
  check_len(env, "depthwise dy", dy.len, out_size(g));
  check_len(env, "depthwise dw", dw.len, g.f_h * g.f_w * g.out_c);
  depthwise_backprop_filter(g, x.data, dy.data, dw.data);
  return env.Undefined();
}

void check_pool(Napi::Env env, const ConvGeom& g) {
  if (g.out_c != g.in_c) throw Napi::RangeError::New(env, "pool: out_c must equal in_c");
}

// pool(kind 0 = max / 1 = avg, x, y, params, argmax?: Int8Array)
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const idx kind = int_arg(info, 0);
  Span<float> x = f32_arg(info, 1), y = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_pool(env, g);
  check_len(env, "pool x", x.len, in_size(g));
  check_len(env, "pool y", y.len, out_size(g));
  if (kind == 0) {
    int8_t* arg = nullptr;
    if (info.Length() > 4 && !info[4].IsNull() && !info[4].IsUndefined()) {
      if (g.f_h * g.f_w > 127) throw Napi::RangeError::New(env, "pool: argmax needs windows of at most 127 pixels");
      Span<int8_t> a = i8_arg(info, 4);
      check_len(env, "pool argmax", a.len, out_size(g));
      arg = a.data;
    }
    max_pool(g, x.data, y.data, arg);
  } else {
    avg_pool(g, x.data, y.data);
  }
  return env.Undefined();
}

// maxPoolGrad(x, dy, dx, params)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> x = f32_arg(info, 0), dy = f32_arg(info, 1), dx = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_pool(env, g);
  check_len(env, "maxPoolGrad x", x.len, in_size(g));
  check_len(env, "maxPoolGrad dy", dy.len, out_size(g));
  check_len(env, "maxPoolGrad dx", dx.len, in_size(g));
  max_pool_grad(g, x.data, dy.data, dx.data);
  return env.Undefined();
}

// maxPoolGradArgmax(dy, argmax, dx, params)
Napi::Value MaxPoolGradArgmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> dy = f32_arg(info, 0);
  Span<int8_t> arg = i8_arg(info, 1);
  Span<float> dx = f32_arg(info, 2);
  ConvGeom g = geom_arg(params_arg(info, 3), env);
  check_pool(env, g);
  if (g.f_h * g.f_w > 127) throw Napi::RangeError::New(env, "maxPoolGradArgmax: windows of at most 127 pixels");
  check_len(env, "maxPoolGradArgmax dy", dy.len, out_size(g));
  check_len(env, "maxPoolGradArgmax argmax", arg.len, out_size(g));
  check_len(env, "maxPoolGradArgmax dx", dx.len, in_size(g));
  max_pool_grad_argmax(g, dy.data, arg.data, dx.data);
  return env.Undefined();
}

// avgPoolGrad(dy, dx, params)
Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span<float> dy = f32_arg(info, 0), dx = f32_arg(info, 1);
  ConvGeom g = geom_arg(params_arg(info, 2), env);
  check_pool(env, g);
  check_len(env, "avgPoolGrad dy", dy.len, out_size(g));
  check_len(env, "avgPoolGrad dx", dx.len, in_size(g));
  avg_pool_grad(g, dy.data, dx.data);
  return env.Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput, "conv2dBackpropInput"));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter, "conv2dBackpropFilter"));
  exports.Set("depthwiseConv2d", Napi::Function::New(env, Depthwise, "depthwiseConv2d"));
  exports.Set("depthwiseBackpropInput", Napi::Function::New(env, DepthwiseBackpropInput, "depthwiseBackpropInput"));
  exports.Set("depthwiseBackpropFilter", Napi::Function::New(env, DepthwiseBackpropFilter, "depthwiseBackpropFilter"));
  exports.Set("pool", Napi::Function::New(env, Pool, "pool"));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad, "maxPoolGrad"));
  exports.Set("maxPoolGradArgmax", Napi::Function::New(env, MaxPoolGradArgmax, "maxPoolGradArgmax"));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad, "avgPoolGrad"));
}

}  // namespace ma
