#include "cpu_features.h"

#include <atomic>

namespace ma {

bool cpu_has_avx2_fma() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
#else
  return false;
#endif
}

namespace {
std::atomic<int> g_isa_cap{0};
}  // namespace

void set_isa_cap(int cap) { g_isa_cap.store(cap < 0 || cap > 2 ? 0 : cap); }

bool use_avx512() { return g_isa_cap.load(std::memory_order_relaxed) == 0 && cpu_has_avx512f(); }

bool use_avx2() { return g_isa_cap.load(std::memory_order_relaxed) != 1 && cpu_has_avx2_fma(); }

bool cpu_has_avx512f() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && cpu_has_avx2_fma();
  }();
  return ok;
#else
  return false;
#endif
}

}  // namespace ma
