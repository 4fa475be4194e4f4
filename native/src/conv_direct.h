// Direct convolutions (NHWC): no im2col matrix and no GEMM packing of the image. The forward
// kernel broadcasts input values straight from the image rows into a register tile of
// [pixels x output channels]; the filter gradient keeps a [taps*channels x output channels]
// tile in registers and streams pixels through it. For small channel counts (a 1-channel
// input: K = 9) the GEMM's packing would cost more than the arithmetic.
#pragma once

#include "conv.h"

namespace ma {

// Geometry of one direct convolution: input [batch, in_h, in_w, in_c] -> output
// [batch, out_h, out_w, out_c] with a packed filter (see pack below).
struct DirectConv {
  const float* x = nullptr;
  float* y = nullptr;
  idx batch = 0, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  idx f_h = 0, f_w = 0, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
  // Filter as nblocks panels of [K = f_h * f_w * in_c][nr], zero-padded past out_c.
  const float* wp = nullptr;
  int nr = 0;
  const Epilogue* ep = nullptr;
  // Filter gradient: dy [batch, out_h, out_w, out_c].
  const float* dy = nullptr;

  idx K() const { return f_h * f_w * in_c; }
  idx nblocks() const { return ceil_div(out_c, nr); }
};

// Entry points used by conv.cc; false when the direct path does not apply (the caller then
// uses the GEMM formulation).
bool conv2d_direct(const ConvGeom& g, const float* x, const float* w, float* y, const Epilogue& ep);
bool conv2d_backprop_input_direct(const ConvGeom& g, const float* dy, const float* w, float* dx);
bool conv2d_backprop_filter_direct(const ConvGeom& g, const float* x, const float* dy, float* dw);

}  // namespace ma
