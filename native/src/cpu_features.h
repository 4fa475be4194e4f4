#pragma once

namespace ma {

// True when the CPU and OS support AVX2 and FMA (run-time CPUID check, x86-64 only).
bool cpu_has_avx2_fma();
// AVX-512F with OS support for the zmm state.
bool cpu_has_avx512f();

// What the kernels may use: the CPU's support, capped by set_isa_cap (0 = best available,
// 1 = portable only, 2 = up to AVX2) so tests can run every code path on one machine.
void set_isa_cap(int cap);
bool use_avx512();
bool use_avx2();

}  // namespace ma
