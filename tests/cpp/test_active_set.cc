// Active-set selection: exactly k distinct ids, ascending, labels always in, neurons
// retrieved by more tables preferred, and the radix sort agrees with std::sort.
#include <algorithm>
#include <set>
#include <vector>

#include "active_set.h"
#include "check.h"
#include "lsh_index.h"
#include "random.h"

using namespace udt;

int main() {
  Rng rng(3);
  const uint32_t dim = 5000, tables = 8;
  LshIndex index(tables, 4, 64, BucketPolicy::Fifo);
  // Neuron 7 sits in the queried bucket of every table, 100..139 in four tables each,
  // 1000..1199 in one table each.
  std::vector<uint32_t> codes(tables, 3);
  for (uint32_t t = 0; t < tables; ++t) {
    index.insert(t, 3, 7, rng);
    for (uint32_t n = 100; n < 140; ++n) if ((n + t) % 2 == 0) index.insert(t, 3, n, rng);
    for (uint32_t n = 1000 + 25 * t; n < 1025 + 25 * t; ++n) index.insert(t, 3, n, rng);
  }
  ActiveSetSelector selector(dim);
  std::vector<uint32_t> active, missed;
  const uint32_t labels[] = {4321, 7};
  for (uint32_t k : {10u, 30u, 300u, 3000u}) {
    missed.clear();
    selector.select(index, codes.data(), k, labels, 2, rng, active, &missed);
    CHECK(active.size() == k);
    CHECK(std::is_sorted(active.begin(), active.end()));
    CHECK(std::set<uint32_t>(active.begin(), active.end()).size() == k);
    CHECK(std::binary_search(active.begin(), active.end(), 4321u));
    CHECK(std::binary_search(active.begin(), active.end(), 7u));
    CHECK((missed == std::vector<uint32_t>{4321}));  // 7 was retrieved, 4321 was not
    if (k == 30) {  // 2 labels + 28 of the 40 four-table neurons, none of the one-table ones
      for (uint32_t id : active) CHECK(id == 7 || id == 4321 || (id >= 100 && id < 140));
    }
  }
  // max_retrieved caps what the tables contribute beyond the labels; the rest is uniform.
  for (uint32_t cap : {0u, 5u, 20u}) {
    selector.select(index, codes.data(), 300, labels, 2, rng, active, nullptr, cap);
    CHECK(active.size() == 300);
    uint32_t retrieved = 0;  // ids the tables hold (7 is a label)
    for (uint32_t id : active) retrieved += (id >= 100 && id < 140) || (id >= 1000 && id < 1200);
    // + uniform draws that land on retrieved ids: ~300 x 240 / 5000 = 14 expected (uncapped: all 240)
    CHECK(retrieved <= cap + 30);
    if (cap == 20) CHECK(retrieved >= 20);  // and the cap's worth come from the four-table tier first
  }
  // Sorting of large active sets (radix) against std::sort.
  for (uint32_t k : {100u, 2000u, 4999u}) {
    selector.select(index, codes.data(), k, nullptr, 0, rng, active, nullptr);
    std::vector<uint32_t> sorted = active;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == active);
  }
  return udt_test::finish("test_active_set");
}
