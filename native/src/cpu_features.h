#pragma once

namespace ma {

// True when the CPU and OS support AVX2 and FMA (run-time CPUID check, x86-64 only).
bool cpu_has_avx2_fma();
// AVX-512F with OS support for the zmm state.
bool cpu_has_avx512f();

}  // namespace ma
