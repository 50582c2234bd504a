#pragma once
// Flush-to-zero / denormals-are-zero for the engine's arithmetic. Adam's moments of a rarely
// used row decay geometrically (catch-up multiplies them by beta^gap) and pass through the
// denormal range, where every x86 multiply takes a ~100-cycle microcode assist: later epochs
// ran 1.2-1.8x slower than the first. Values that small (< 1e-38) change no weight, so the
// engine flushes them. The caller's mode is restored on exit: Python's own floats are untouched.
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define UDT_HAS_MXCSR 1
#endif

namespace udt {

class FlushDenormals {
 public:
#ifdef UDT_HAS_MXCSR
  static constexpr unsigned kBits = 0x8040;  // MXCSR flush-to-zero (bit 15) | denormals-are-zero (bit 6)
  FlushDenormals() : saved_(_mm_getcsr()) {
    if ((saved_ & kBits) != kBits) _mm_setcsr(saved_ | kBits);
  }
  ~FlushDenormals() {
    if ((saved_ & kBits) != kBits) _mm_setcsr(saved_);
  }
  // For threads that only ever run engine code (the pool's workers): set once, never restored.
  static void enable_for_this_thread() { _mm_setcsr(_mm_getcsr() | kBits); }

 private:
  unsigned saved_;
#else
  FlushDenormals() = default;
  static void enable_for_this_thread() {}
#endif
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};

}  // namespace udt
