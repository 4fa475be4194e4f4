// Reductions over the middle axis of an [O, R, I] view, softmax over rows, and layout kernels.
#pragma once

#include <cstdint>

#include "common.h"

namespace ma {

// Codes shared with src/engine/native/kernels/reduce.ts.
enum class RedOp : int { kSum = 0, kMean, kMax, kMin, kProd, kArgMax, kArgMin };

// out[o * I + i] = reduce over r of x[(o * R + r) * I + i]. Arg ops write out_i, others out_f.
void reduce_f32(RedOp op, const float* x, float* out_f, int32_t* out_i, idx O, idx R, idx I);

// Softmax (or log-softmax) of each row of a [rows, cols] matrix.
void softmax_rows(const float* x, float* out, idx rows, idx cols, bool log);

// Softmax gradient per row, in tfjs's order: t = dy * y; out = t - sum(t) * y.
void softmax_grad_rows(const float* dy, const float* y, float* out, idx rows, idx cols);

// tfjs-layers' categoricalCrossentropy of probabilities (not logits), one value per row:
// p = o / sum(o); q = clip(p, eps, 1 - eps); loss = -sum(t * log(q)).
void categorical_crossentropy_rows(const float* target, const float* output, float* loss, idx rows, idx cols,
                                   double eps);
// Its gradient w.r.t. output for the upstream per-row gradient dloss (the chain rule through
// tfjs's Neg, Sum, Multiply, Log, ClipByValue and RealDiv/Sum gradients, as they compute it).
void categorical_crossentropy_grad_rows(const float* dloss, const float* target, const float* output,
                                        float* grad, idx rows, idx cols, double eps);

// out = transpose(x, perm) for 4-byte elements; shape is x's shape.
void transpose_words(const uint32_t* x, uint32_t* out, int rank, const idx* shape, const int* perm);

// out[b, o, i, s] = x[b, o, indices[b, i], s]; false (nothing written) if an index is out of range.
bool gather_words(const uint32_t* x, const int32_t* indices, uint32_t* out, idx batch, idx outer, idx dim,
                  idx slice, idx nidx);

}  // namespace ma
