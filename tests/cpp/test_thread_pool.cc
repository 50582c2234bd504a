// The pool runs every item exactly once, from any number of threads, rethrows the
// first exception, and can be reused after one. Inside a job denormal results flush to
// zero (on every thread); the caller's floating-point mode is restored afterwards.
#include <atomic>
#include <cfloat>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "denormals.h"
#include "thread_pool.h"

using namespace udt;

int main() {
  for (size_t threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (size_t n : {0, 1, 7, 1000, 12345}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, 13, [&](size_t b, size_t e, size_t worker) {
        CHECK(worker < threads);
        for (size_t i = b; i < e; ++i) hits[i]++;
      });
      for (auto& h : hits) CHECK(h.load() == 1);
    }
    bool threw = false;
    try {
      pool.parallel_for(100, 1, [&](size_t b, size_t e, size_t) {
        if (b <= 57 && 57 < e) throw std::runtime_error("item 57");
      });
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == "item 57";
    }
    CHECK(threw);
    std::atomic<size_t> total{0};
    pool.parallel_for(100, 10, [&](size_t b, size_t e, size_t) { total += e - b; });
    CHECK(total.load() == 100);

    // FLT_MIN / 4 is denormal: flushed to 0 inside a job, kept outside it.
    volatile float tiny = FLT_MIN, quarter = 0.25f;
    std::vector<float> inside(64, -1.0f);
    pool.parallel_for(inside.size(), 1, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; ++i) inside[i] = tiny * quarter;
    });
#ifdef UDT_HAS_MXCSR
    for (float v : inside) CHECK(v == 0.0f);
#endif
    CHECK(tiny * quarter > 0.0f);
  }
  // Thread counts are bounded: a crafted n_threads is an error, not a million threads.
  bool refused = false;
  try {
    ThreadPool too_many(ThreadPool::kMaxThreads + 1);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CHECK(refused);
  return udt_test::finish("test_thread_pool");
}
