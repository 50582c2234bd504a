#pragma once
// A minimal check macro for the C++ unit tests (run by ctest): failures print the
// condition and location, and the test exits non-zero at the end.
#include <cstdio>

namespace udt_test {
inline int& failures() {
  static int count = 0;
  return count;
}
inline int finish(const char* name) {
  if (failures()) std::printf("%s: %d check(s) failed\n", name, failures());
  else std::printf("%s: all checks passed\n", name);
  return failures() ? 1 : 0;
}
}  // namespace udt_test

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::printf("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
      ++udt_test::failures();                                                        \
    }                                                                                \
  } while (0)
