// Argument unpacking for the N-API bindings. Every pointer handed to a kernel is checked
// against the typed array's length here, so a wrong call from JS raises a RangeError instead of
// corrupting memory.
#pragma once

#include <napi.h>

#include <string>

#include "common.h"

namespace ma {

template <class T>
struct Span {
  T* data = nullptr;
  idx len = 0;
};

inline Napi::TypedArray typed_arg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type,
                                  const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + std::to_string(i) + " must be a " + what);
  }
  return info[i].As<Napi::TypedArray>();
}

inline Span<float> f32_arg(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed_arg(info, i, napi_float32_array, "Float32Array").As<Napi::Float32Array>();
  return {a.Data(), static_cast<idx>(a.ElementLength())};
}

// null/undefined -> empty span
inline Span<float> opt_f32_arg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return {};
  return f32_arg(info, i);
}

inline Span<int32_t> i32_arg(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed_arg(info, i, napi_int32_array, "Int32Array").As<Napi::Int32Array>();
  return {a.Data(), static_cast<idx>(a.ElementLength())};
}

inline Span<int8_t> i8_arg(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed_arg(info, i, napi_int8_array, "Int8Array").As<Napi::Int8Array>();
  return {a.Data(), static_cast<idx>(a.ElementLength())};
}

inline Span<uint8_t> u8_arg(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed_arg(info, i, napi_uint8_array, "Uint8Array").As<Napi::Uint8Array>();
  return {a.Data(), static_cast<idx>(a.ElementLength())};
}

// Any 4-byte element array (Float32Array or Int32Array) for dtype-agnostic copies.
inline Span<uint32_t> word_arg(const Napi::CallbackInfo& info, size_t i) {
  if (i < info.Length() && info[i].IsTypedArray()) {
    auto t = info[i].As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_float32_array || t.TypedArrayType() == napi_int32_array ||
        t.TypedArrayType() == napi_uint32_array) {
      auto buf = t.ArrayBuffer();
      auto* base = static_cast<uint8_t*>(buf.Data()) + t.ByteOffset();
      return {reinterpret_cast<uint32_t*>(base), static_cast<idx>(t.ElementLength())};
    }
  }
  throw Napi::TypeError::New(info.Env(), std::string("argument ") + std::to_string(i) +
                                             " must be a Float32Array or Int32Array");
}

// Integer parameters travel in one Float64Array (exact up to 2^53, one N-API call).
struct Params {
  const double* v = nullptr;
  idx n = 0;
  Napi::Env env;
  idx at(idx i) const {
    if (i < 0 || i >= n) throw Napi::RangeError::New(env, "parameter block too short");
    return static_cast<idx>(v[i]);
  }
  double num(idx i) const {
    if (i < 0 || i >= n) throw Napi::RangeError::New(env, "parameter block too short");
    return v[i];
  }
};

inline Params params_arg(const Napi::CallbackInfo& info, size_t i) {
  auto a = typed_arg(info, i, napi_float64_array, "Float64Array").As<Napi::Float64Array>();
  return Params{a.Data(), static_cast<idx>(a.ElementLength()), info.Env()};
}

inline double num_arg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline idx int_arg(const Napi::CallbackInfo& info, size_t i) {
  double d = num_arg(info, i);
  if (d < 0 || d > 9007199254740991.0 || d != static_cast<double>(static_cast<idx>(d)))
    throw Napi::RangeError::New(info.Env(), std::string("argument ") + std::to_string(i) + " must be a non-negative integer");
  return static_cast<idx>(d);
}

// Largest element index touched by a strided walk starting at `offset`: throws unless it fits.
struct Extent {
  idx count;
  idx stride;
};
inline void check_span(Napi::Env env, const char* what, idx len, idx offset, std::initializer_list<Extent> dims) {
  idx hi = offset, lo = offset;
  for (const Extent& d : dims) {
    if (d.count <= 0) return;  // nothing is read
    const idx reach = (d.count - 1) * d.stride;
    if (reach >= 0) hi += reach; else lo += reach;
  }
  if (lo < 0 || hi >= len)
    throw Napi::RangeError::New(env, std::string(what) + ": index out of range (" + std::to_string(hi) +
                                         " >= " + std::to_string(len) + ")");
}

inline void check_len(Napi::Env env, const char* what, idx len, idx need) {
  if (len < need)
    throw Napi::RangeError::New(env, std::string(what) + ": array too short (" + std::to_string(len) + " < " +
                                         std::to_string(need) + ")");
}

}  // namespace ma
