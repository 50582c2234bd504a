// Every DWTA kernel version this CPU can run gives the same winners as the scalar one,
// including ties (first maximum wins), all-zero bins (empty) and negative values.
#include <vector>

#include "check.h"
#include "dwta_kernels.h"
#include "random.h"

using namespace udt;

int main() {
  Rng rng(42);
  const size_t dim = 96, n_hashes = 64;
  std::vector<int32_t> positions(dwta::kBinSize * n_hashes);
  for (auto& p : positions) p = static_cast<int32_t>(rng.below(dim));
  const char* versions[] = {"avx2", "avx512"};
  int compared = 0;
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<float> x(dim);
    for (auto& v : x) {
      uint32_t kind = rng.below(4);  // zeros, ties and negatives are all common
      v = kind == 0 ? 0.0f : kind == 1 ? 1.0f : (rng.uniform() - 0.5f);
    }
    for (size_t b = 0; b < n_hashes; b += dwta::kLanes) {
      uint8_t expected[dwta::kLanes], got[dwta::kLanes];
      dwta::available("scalar")(x.data(), &positions[b], n_hashes, expected);
      for (uint8_t w : expected) CHECK(w < dwta::kBinSize || w == dwta::kEmptyBin);
      for (const char* isa : versions) {
        dwta::Winners16 kernel = dwta::available(isa);
        if (!kernel) continue;
        kernel(x.data(), &positions[b], n_hashes, got);
        for (uint32_t l = 0; l < dwta::kLanes; ++l) CHECK(got[l] == expected[l]);
        ++compared;
      }
    }
  }
  // An all-zero vector leaves every bin empty.
  std::vector<float> zeros(dim, 0.0f);
  uint8_t w[dwta::kLanes];
  dwta::winners16(zeros.data(), positions.data(), n_hashes, w);
  for (uint8_t v : w) CHECK(v == dwta::kEmptyBin);
  std::printf("compared %d vector blocks against scalar\n", compared);
  return udt_test::finish("test_dwta_kernels");
}
