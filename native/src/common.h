// Shared definitions for the modelauto native kernels.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ma {

using idx = std::ptrdiff_t;

// Fused activations applied by GEMM/conv epilogues; values are part of the JS<->C++ contract
// (src/engine/native/addon.ts mirrors them).
enum class Act : int {
  kLinear = 0,
  kRelu = 1,
  kRelu6 = 2,
  kElu = 3,
  kLeakyRelu = 4,
  kSigmoid = 5,
  kPrelu = 6,
};

inline idx ceil_div(idx a, idx b) { return (a + b - 1) / b; }

}  // namespace ma

#include <cstdlib>
#include <new>

namespace ma {

// Grow-only 64-byte aligned scratch buffer (packed GEMM panels, per-thread partial sums).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { release(); }

  float* get(idx count) {
    if (count > cap_) {
      release();
      idx want = count < 1024 ? 1024 : count;
      void* p = nullptr;
#if defined(_WIN32)
      p = _aligned_malloc(static_cast<size_t>(want) * sizeof(float), 64);
#else
      if (posix_memalign(&p, 64, static_cast<size_t>(want) * sizeof(float)) != 0) p = nullptr;
#endif
      if (p == nullptr) throw std::bad_alloc();
      data_ = static_cast<float*>(p);
      cap_ = want;
    }
    return data_;
  }

 private:
  void release() {
#if defined(_WIN32)
    _aligned_free(data_);
#else
    std::free(data_);
#endif
    data_ = nullptr;
    cap_ = 0;
  }
  float* data_ = nullptr;
  idx cap_ = 0;
};

}  // namespace ma
