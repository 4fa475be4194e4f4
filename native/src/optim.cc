#include "optim.h"

#include <algorithm>
#include <cmath>

#include "cpu_features.h"
#include "denormals.h"
#include "thread_pool.h"

#define MA_OPTIM_NS baseline
#include "optim_kernels.h"

namespace ma {
namespace {

template <class F>
void chunks(idx n, F&& fn) {
  ThreadPool& pool = ThreadPool::instance();
  if (pool.threads() <= 1 || n < (1 << 16)) {
    FlushDenormals ftz;
    fn(0, n);
    return;
  }
  const int tasks = static_cast<int>(std::min<idx>(4 * pool.threads(), ceil_div(n, 1 << 14)));
  const idx chunk = ceil_div(ceil_div(n, tasks), 16) * 16;
  pool.parallel_for(tasks, [&](int t) {
    const idx b = t * chunk, e = std::min(n, b + chunk);
    FlushDenormals ftz;
    if (b < e) fn(b, e);
  });
}

}  // namespace

#if defined(MODELAUTO_HAVE_AVX512)
void adam_range_avx512(const float* value, const float* m, const float* v, const float* grad, float* new_value,
                       float* new_m, float* new_v, idx b, idx e, const AdamParams& p);
void adam_range_inplace_avx512(float* value, float* m, float* v, const float* grad, idx b, idx e,
                               const AdamParams& p);
#endif

void adam_update(const float* value, const float* m, const float* v, const float* grad, float* new_value,
                 float* new_m, float* new_v, idx n, const AdamParams& p) {
#if defined(MODELAUTO_HAVE_AVX512)
  const bool wide = use_avx512();
#else
  const bool wide = false;
#endif
  chunks(n, [&](idx b, idx e) {
#if defined(MODELAUTO_HAVE_AVX512)
    if (wide) {
      adam_range_avx512(value, m, v, grad, new_value, new_m, new_v, b, e, p);
      return;
    }
#endif
    (void)wide;
    baseline::adam_range(value, m, v, grad, new_value, new_m, new_v, b, e, p);
  });
}

void adam_update_inplace(float* value, float* m, float* v, const float* grad, idx n, const AdamParams& p) {
#if defined(MODELAUTO_HAVE_AVX512)
  const bool wide = use_avx512();
#else
  const bool wide = false;
#endif
  chunks(n, [&](idx b, idx e) {
#if defined(MODELAUTO_HAVE_AVX512)
    if (wide) {
      adam_range_inplace_avx512(value, m, v, grad, b, e, p);
      return;
    }
#endif
    (void)wide;
    baseline::adam_range_inplace(value, m, v, grad, b, e, p);
  });
}

void momentum_update(const float* value, const float* acc, const float* grad, float* new_value, float* new_acc,
                     idx n, float momentum, float neg_lr, bool nesterov) {
  chunks(n, [&](idx b, idx e) {
    for (idx i = b; i < e; ++i) {
      const float a = momentum * acc[i] + grad[i];
      new_acc[i] = a;
      new_value[i] = nesterov ? neg_lr * (grad[i] + a * momentum) + value[i] : neg_lr * a + value[i];
    }
  });
}

void sgd_update(const float* value, const float* grad, float* new_value, idx n, float neg_lr) {
  chunks(n, [&](idx b, idx e) {
    for (idx i = b; i < e; ++i) new_value[i] = neg_lr * grad[i] + value[i];
  });
}

}  // namespace ma
