// Splits [0, n) into contiguous chunks, one per thread, and runs fn(begin, end, chunk)
// on each. Threads are started per call (a batch is thousands of rows, so the ~20 us of
// thread start-up is noise) and joined: nothing spins between calls. The first exception
// by chunk order is rethrown, so errors name the earliest bad row.
#pragma once
#include <algorithm>
#include <cstdint>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace udt {

constexpr int kMaxThreads = 1024;  // as the engine's ThreadPool: more is a mistake, not a machine

inline int resolve_threads(int n_threads) {
  if (n_threads > 0) return std::min(n_threads, kMaxThreads);
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : std::min(int(hw), kMaxThreads);
}

template <class Fn>
void parallel_chunks(int64_t n, int n_chunks, Fn fn) {
  n_chunks = int(std::max<int64_t>(1, std::min<int64_t>(n_chunks, n)));
  auto bounds = [&](int c) { return n * c / n_chunks; };
  if (n_chunks == 1) {
    fn(int64_t(0), n, 0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n_chunks));
  std::vector<std::thread> threads;
  threads.reserve(size_t(n_chunks - 1));
  // A chunk whose thread cannot start runs on this thread instead (joining the started
  // threads before unwinding matters: a joinable std::thread's destructor aborts).
  int started = n_chunks;
  for (int c = 1; c < n_chunks && started == n_chunks; ++c) {
    try {
      threads.emplace_back([&, c] {
        try {
          fn(bounds(c), bounds(c + 1), c);
        } catch (...) {
          errors[size_t(c)] = std::current_exception();
        }
      });
    } catch (const std::system_error&) {
      started = c;
    }
  }
  for (int c = 0; c < n_chunks; ++c) {
    if (c != 0 && c < started) continue;
    try {
      fn(bounds(c), bounds(c + 1), c);
    } catch (...) {
      errors[size_t(c)] = std::current_exception();
    }
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace udt
