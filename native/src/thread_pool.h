// A small fork-join pool: the calling thread takes part in every job, workers spin briefly
// after a job (training runs kernels back to back) and then sleep on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ma {

class ThreadPool {
 public:
  using TaskFn = void (*)(void* ctx, int task);

  static ThreadPool& instance();

  // Total threads including the caller; n < 1 is treated as 1.
  void set_threads(int n);
  int threads() const { return nthreads_.load(std::memory_order_relaxed); }

  // Runs fn(ctx, t) for t in [0, ntasks); returns when all tasks are done. Tasks are handed out
  // dynamically so a core taken by another process only slows its share. If a job is already
  // running (re-entrant call or a second JS thread), the tasks run serially on the caller.
  void run(int ntasks, TaskFn fn, void* ctx);

  template <class F>
  void parallel_for(int ntasks, F&& f) {
    struct Box {
      F* f;
    } box{&f};
    run(ntasks, [](void* c, int t) { (*static_cast<Box*>(c)->f)(t); }, &box);
  }

  ~ThreadPool();

 private:
  ThreadPool() = default;
  void worker_loop(int id);
  void stop_workers();
  struct Job {
    TaskFn fn;
    void* ctx;
    int ntasks;
    std::atomic<int> next{0};
    std::atomic<int> completed{0};
    std::mutex error_mutex;
    std::exception_ptr error;
  };
  static void execute_tasks(Job* job);

  std::vector<std::thread> workers_;
  std::atomic<int> nthreads_{1};

  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  std::atomic<int> sleepers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0};

  // The running job lives on the caller's stack. Workers register in in_flight_ before loading
  // it; the caller clears job_ and then waits for in_flight_ to drain before returning.
  std::atomic<Job*> job_{nullptr};

  std::mutex run_mutex_;
};

}  // namespace ma
