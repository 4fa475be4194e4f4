#include "optim.h"

#include <algorithm>
#include <cmath>

#include "thread_pool.h"

namespace ma {
namespace {

template <class F>
void chunks(idx n, F&& fn) {
  ThreadPool& pool = ThreadPool::instance();
  if (pool.threads() <= 1 || n < (1 << 16)) {
    fn(0, n);
    return;
  }
  const int tasks = static_cast<int>(std::min<idx>(4 * pool.threads(), ceil_div(n, 1 << 14)));
  const idx chunk = ceil_div(ceil_div(n, tasks), 16) * 16;
  pool.parallel_for(tasks, [&](int t) {
    const idx b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  });
}

}  // namespace

void adam_update(const float* value, const float* m, const float* v, const float* grad, float* new_value,
                 float* new_m, float* new_v, idx n, const AdamParams& p) {
  chunks(n, [&](idx b, idx e) {
    for (idx i = b; i < e; ++i) {
      const float g = grad[i];
      const float m1 = m[i] * p.beta1 + g * p.one_minus_beta1;
      const float v1 = v[i] * p.beta2 + (g * g) * p.one_minus_beta2;
      const float mhat = m1 / p.one_minus_acc_beta1;
      const float vhat = v1 / p.one_minus_acc_beta2;
      const float den = std::sqrt(vhat) + p.epsilon;
      const float step = (mhat / den) * p.neg_lr;
      const float w = p.decay == 1.f ? value[i] : value[i] * p.decay;
      new_value[i] = step + w;
      new_m[i] = m1;
      new_v[i] = v1;
    }
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
