// 2-D convolutions (NHWC, filters [fh, fw, in_c, out_c]) on top of the GEMM, depthwise
// convolutions and pooling as direct loops.
#pragma once

#include <cstdint>

#include "common.h"
#include "gemm.h"

namespace ma {

struct ConvGeom {
  idx batch, in_h, in_w, in_c;
  idx out_h, out_w, out_c;  // depthwise: out_c = in_c * multiplier
  idx f_h, f_w;
  idx stride_h, stride_w, dil_h, dil_w;
  idx pad_top, pad_left;
};

// y = conv(x, w) with a fused bias/activation epilogue over [rows = b*oh*ow, out_c].
void conv2d(const ConvGeom& g, const float* x, const float* w, float* y, const Epilogue& ep);
void conv2d_backprop_input(const ConvGeom& g, const float* dy, const float* w, float* dx);
void conv2d_backprop_filter(const ConvGeom& g, const float* x, const float* dy, float* dw);

void depthwise_conv2d(const ConvGeom& g, const float* x, const float* w, float* y, const Epilogue& ep);
void depthwise_backprop_input(const ConvGeom& g, const float* dy, const float* w, float* dx);
void depthwise_backprop_filter(const ConvGeom& g, const float* x, const float* dy, float* dw);

// Pooling: ConvGeom with out_c == in_c and f_h/f_w the window.
// arg (optional): the winner's position in each (clipped) window, -1 for none; windows of at
// most 127 pixels.
void max_pool(const ConvGeom& g, const float* x, float* y, int8_t* arg = nullptr);
// MaxPoolGrad from the positions max_pool recorded (no need to read x again).
void max_pool_grad_argmax(const ConvGeom& g, const float* dy, const int8_t* arg, float* dx);
void avg_pool(const ConvGeom& g, const float* x, float* y);
void max_pool_grad(const ConvGeom& g, const float* x, const float* dy, float* dx);
void avg_pool_grad(const ConvGeom& g, const float* dy, float* dx);

}  // namespace ma
