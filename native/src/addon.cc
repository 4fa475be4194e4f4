// N-API entry points. Each binding unpacks and bounds-checks its arguments (napi_args.h) and
// calls a kernel that works on raw pointers; kernels never allocate JS objects.
#include <napi.h>

#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bindings.h"
#include "cpu_features.h"
#include "gemm.h"
#include "napi_args.h"
#include "thread_pool.h"

namespace ma {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", gemm_isa());
  o.Set("avx2", cpu_has_avx2_fma());
  o.Set("avx512", cpu_has_avx512f());
  o.Set("threads", ThreadPool::instance().threads());
  o.Set("hardwareThreads", static_cast<double>(std::thread::hardware_concurrency()));
#if defined(__clang__)
  o.Set("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  o.Set("compiler", "gcc " __VERSION__);
#else
  o.Set("compiler", "unknown");
#endif
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  idx n = int_arg(info, 0);
  ThreadPool::instance().set_threads(static_cast<int>(n < 1 ? 1 : n));
  return Napi::Number::New(info.Env(), ThreadPool::instance().threads());
}

// setIsaCap(0 = best, 1 = portable, 2 = AVX2) -> name of the micro-kernel now in use
Napi::Value SetIsaCap(const Napi::CallbackInfo& info) {
  gemm_set_isa_cap(static_cast<int>(int_arg(info, 0)));
  return Napi::String::New(info.Env(), gemm_isa());
}

// tuneMalloc() -> whether glibc's allocator was told to keep freed memory. Multi-megabyte
// tensors are freed and reallocated every training step; by default glibc hands such blocks
// back to the kernel (munmap/trim) and every reuse then page-faults (and zeroes) each page again,
// which costs more than the kernels that fill them.
Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ThreadPool::instance().set_threads(1);
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setIsaCap", Napi::Function::New(env, SetIsaCap, "setIsaCap"));
  exports.Set("tuneMalloc", Napi::Function::New(env, TuneMalloc, "tuneMalloc"));
  register_matmul(env, exports);
  register_elementwise(env, exports);
  register_optim(env, exports);
  register_conv(env, exports);
  return exports;
}

}  // namespace ma

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ma::Init(env, exports); }

NODE_API_MODULE(modelauto_native, InitModule)
