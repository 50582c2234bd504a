#pragma once
// A fixed pool of worker threads that sleep on a condition variable between jobs:
// no busy-waiting, so it never steals cycles from other processes on a shared
// machine (unlike OpenMP's default spin-wait). The calling thread works too.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace udt {

class ThreadPool {
 public:
  // fn(begin, end, worker): a half-open range of items and the worker's index in [0, size()).
  using RangeFn = std::function<void(size_t, size_t, size_t)>;
  // Threads beyond this are a mistake (or a crafted model file), not a machine.
  static constexpr size_t kMaxThreads = 1024;

  // n_threads in [0, kMaxThreads] (0 = every hardware thread), else std::invalid_argument.
  // When the system cannot start a thread, joins those started and throws std::runtime_error.
  explicit ThreadPool(size_t n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }

  // Splits [0, n) into chunks of `grain` items handed out on demand. Which worker runs
  // a chunk is not deterministic, so callers write results per item, never per worker.
  // Rethrows the first exception a chunk threw.
  void parallel_for(size_t n, size_t grain, const RangeFn& fn);

  static size_t default_threads();

 private:
  void stop_workers();
  void worker_loop(size_t worker);
  void run_chunks(size_t worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const RangeFn* job_ = nullptr;
  size_t job_n_ = 0, job_grain_ = 1;
  std::atomic<size_t> next_{0};
  size_t generation_ = 0, busy_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::mutex run_mutex_;  // one parallel_for at a time (predict may be called from many threads)
};

}  // namespace udt
