// Flush-to-zero for the optimizer updates. Adam's and momentum's moment estimates decay
// geometrically where a gradient stays zero (the weights of MNIST's always-blank border pixels,
// dead ReLU units) and pass through the float32 subnormal range (below 2^-126) on their way to
// zero; every operation on a subnormal value takes a microcode assist, about a hundred times the
// normal cost, which made a 100k-parameter Adam step 20-50x slower. With the flags set, such
// values read and write as zero. The weights are unaffected in practice: an update computed from
// a subnormal moment is below 2^-126 / epsilon * lr, lost when added to any weight larger than
// about 1e-28 in magnitude.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace ma {

// Sets flush-to-zero and denormals-are-zero on this thread for its lifetime.
class FlushDenormals {
 public:
  FlushDenormals() {
#if defined(__SSE__) || defined(__x86_64__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
#elif defined(__aarch64__)
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved_));
    const unsigned long fz = saved_ | (1ul << 24);
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fz));
#endif
  }
  ~FlushDenormals() {
#if defined(__SSE__) || defined(__x86_64__)
    _mm_setcsr(saved_);
#elif defined(__aarch64__)
    __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_));
#endif
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
#if defined(__aarch64__)
  unsigned long saved_ = 0;
#else
  unsigned int saved_ = 0;
#endif
};

}  // namespace ma
