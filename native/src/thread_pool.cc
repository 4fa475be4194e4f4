#include "thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MA_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define MA_PAUSE() __asm__ __volatile__("yield")
#else
#define MA_PAUSE() ((void)0)
#endif

namespace ma {

namespace {
// Some tens of microseconds of spinning: long enough to bridge the JS work between two kernels
// of a training step, short enough not to starve other processes on a shared machine.
constexpr int kSpinIterations = 1500;
// The caller waiting for a worker's last task yields quickly: if the machine is oversubscribed,
// the worker may be waiting for this very core.
constexpr int kWaitSpins = 200;
// Set while a thread runs a task, so nested parallel calls run serially instead of
// re-entering run_mutex_ (which the outer call holds).
thread_local bool t_inside_task = false;
}  // namespace

ThreadPool& ThreadPool::instance() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock
  // when Node tears down the addon while workers sleep.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lk(sleep_mutex_);
    stop_.store(true);
  }
  generation_.fetch_add(1);
  sleep_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  stop_.store(false);
}

void ThreadPool::set_threads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  if (n == nthreads_.load() && static_cast<int>(workers_.size()) == n - 1) return;
  stop_workers();
  nthreads_.store(n);
  for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

void ThreadPool::execute_tasks(Job* job) {
  for (;;) {
    int t = job->next.fetch_add(1);
    if (t >= job->ntasks) return;
    t_inside_task = true;
    try {
      job->fn(job->ctx, t);
    } catch (...) {
      t_inside_task = false;
      std::lock_guard<std::mutex> lk(job->error_mutex);
      if (!job->error) job->error = std::current_exception();
    }
    t_inside_task = false;
    job->completed.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::worker_loop(int /*id*/) {
  uint64_t seen = generation_.load();
  for (;;) {
    bool woke = false;
    for (int i = 0; i < kSpinIterations; ++i) {
      if (generation_.load(std::memory_order_acquire) != seen) {
        woke = true;
        break;
      }
      MA_PAUSE();
    }
    if (!woke) {
      std::unique_lock<std::mutex> lk(sleep_mutex_);
      sleepers_.fetch_add(1);
      sleep_cv_.wait(lk, [&] { return generation_.load() != seen || stop_.load(); });
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load();
    if (stop_.load()) return;
    in_flight_.fetch_add(1);
    Job* job = job_.load();
    if (job != nullptr) execute_tasks(job);
    in_flight_.fetch_sub(1);
  }
}

void ThreadPool::run(int ntasks, TaskFn fn, void* ctx) {
  if (ntasks <= 0) return;
  if (t_inside_task) {
    for (int t = 0; t < ntasks; ++t) fn(ctx, t);
    return;
  }
  std::unique_lock<std::mutex> run_lock(run_mutex_, std::try_to_lock);
  if (ntasks == 1 || workers_.empty() || !run_lock.owns_lock()) {
    for (int t = 0; t < ntasks; ++t) fn(ctx, t);
    return;
  }
  Job job;
  job.fn = fn;
  job.ctx = ctx;
  job.ntasks = ntasks;
  job_.store(&job);
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lk(sleep_mutex_); }
    sleep_cv_.notify_all();
  }
  execute_tasks(&job);
  int spins = 0;
  while (job.completed.load(std::memory_order_acquire) < ntasks) {
    if (++spins < kWaitSpins) {
      MA_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
  job_.store(nullptr);
  spins = 0;
  while (in_flight_.load() > 0) {
    if (++spins < kWaitSpins) {
      MA_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace ma
