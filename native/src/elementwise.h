// Elementwise kernels: broadcasting binary ops, unary ops, AddN, Select.
#pragma once

#include <cstdint>

#include "common.h"

namespace ma {

// Codes shared with src/engine/native/kernels/elementwise.ts.
enum class BinOp : int {
  kAdd = 0,
  kSub,
  kMul,
  kDiv,
  kMaximum,
  kMinimum,
  kSquaredDifference,
  kPow,
  kPrelu,
};
enum class CmpOp : int { kEqual = 0, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };
enum class UnOp : int {
  kAbs = 0,
  kNeg,
  kSquare,
  kSqrt,
  kRsqrt,
  kReciprocal,
  kExp,
  kExpm1,
  kLog,
  kLog1p,
  kRelu,
  kRelu6,
  kElu,
  kSelu,
  kLeakyRelu,
  kSigmoid,
  kTanh,
  kSoftplus,
  kStep,
  kSign,
  kFloor,
  kCeil,
  kRound,
  kClip,
  kSin,
  kCos,
  kErf,
};

constexpr int kMaxRank = 8;

// Output is dense in row-major order over `shape`; a and b are read through strides (0 = broadcast).
struct BroadcastGeom {
  int rank;
  idx shape[kMaxRank];
  idx sa[kMaxRank];
  idx sb[kMaxRank];
  idx total() const {
    idx n = 1;
    for (int d = 0; d < rank; ++d) n *= shape[d];
    return n;
  }
};

bool binary_f32(BinOp op, const float* a, const float* b, float* out, const BroadcastGeom& g);
bool compare_f32(CmpOp op, const float* a, const float* b, uint8_t* out, const BroadcastGeom& g);
bool unary_f32(UnOp op, const float* x, float* out, idx n, double alpha, double beta);
void add_n(const float* const* xs, int count, float* out, idx n);
void select_f32(const uint8_t* cond, const float* t, const float* e, float* out, idx n);
// EluGrad: dy where y >= 0, else dy * (y + 1).
void elu_grad(const float* dy, const float* y, float* out, idx n);
// tfjs's Relu gradient in one pass: out = dy * step(x) (NaN where x is NaN). With `sums`, also
// the sums of out over its rows of `cols` elements (a bias gradient), accumulated in double as
// tfjs's Sum does.
void relu_grad(const float* dy, const float* x, float* out, idx n, idx cols, float* sums);

}  // namespace ma
