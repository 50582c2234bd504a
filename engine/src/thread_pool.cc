#include "thread_pool.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "denormals.h"

namespace udt {

size_t ThreadPool::default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return std::min<size_t>(n == 0 ? 1 : n, kMaxThreads);
}

ThreadPool::ThreadPool(size_t n_threads) {
  if (n_threads > kMaxThreads)
    throw std::invalid_argument("n_threads must be in [0, " + std::to_string(kMaxThreads) + "], got " +
                                std::to_string(n_threads));
  if (n_threads == 0) n_threads = default_threads();
  workers_.reserve(n_threads - 1);
  for (size_t w = 1; w < n_threads; ++w) {
    try {
      workers_.emplace_back([this, w] { worker_loop(w); });
    } catch (const std::exception& e) {
      // Destroying the members now would wait forever on the started threads: stop them first.
      stop_workers();
      throw std::runtime_error("could not start thread " + std::to_string(w + 1) + " of " +
                               std::to_string(n_threads) + " (" + e.what() + "); use fewer threads (n_threads)");
    }
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::run_chunks(size_t worker) {
  for (;;) {
    size_t begin = next_.fetch_add(job_grain_);
    if (begin >= job_n_) return;
    size_t end = std::min(job_n_, begin + job_grain_);
    try {
      (*job_)(begin, end, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      next_.store(job_n_);  // stop handing out work
    }
  }
}

void ThreadPool::worker_loop(size_t worker) {
  FlushDenormals::enable_for_this_thread();
  size_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunks(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(size_t n, size_t grain, const RangeFn& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  FlushDenormals flush;  // the calling thread computes too
  if (workers_.empty() || n <= grain) {  // not worth waking anyone
    fn(0, n, 0);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_grain_ = grain;
    next_.store(0);
    error_ = nullptr;
    busy_ = workers_.size();
    ++generation_;
  }
  wake_.notify_all();
  run_chunks(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace udt
