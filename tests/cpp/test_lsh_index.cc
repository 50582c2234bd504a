// Bucket policies of the LSH index: FIFO keeps the newest R arrivals; reservoir keeps a
// uniform sample of everything offered; insert_unique never duplicates.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "lsh_index.h"
#include "random.h"

using namespace udt;

int main() {
  Rng rng(7);
  {
    LshIndex fifo(1, 2, 4, BucketPolicy::Fifo);
    for (uint32_t n = 0; n < 10; ++n) fifo.insert(0, 1, n, rng);
    CHECK(fifo.bucket_size(0, 1) == 4);
    std::vector<uint32_t> kept(fifo.bucket(0, 1), fifo.bucket(0, 1) + 4);
    std::sort(kept.begin(), kept.end());
    CHECK((kept == std::vector<uint32_t>{6, 7, 8, 9}));
    CHECK(fifo.bucket_size(0, 0) == 0);
  }
  {
    // Offer 0..99 to a bucket of 10, many times: each id should be kept ~10% of the time.
    std::vector<int> kept(100, 0);
    const int rounds = 4000;
    for (int r = 0; r < rounds; ++r) {
      LshIndex reservoir(1, 1, 10, BucketPolicy::Reservoir);
      for (uint32_t n = 0; n < 100; ++n) reservoir.insert(0, 0, n, rng);
      CHECK(reservoir.bucket_size(0, 0) == 10);
      for (uint32_t j = 0; j < 10; ++j) ++kept[reservoir.bucket(0, 0)[j]];
    }
    for (int c : kept) CHECK(c > rounds / 10 * 0.8 && c < rounds / 10 * 1.2);  // uniform within 20%
  }
  {
    LshIndex index(2, 3, 3, BucketPolicy::Reservoir);
    index.insert_unique(1, 5, 42, rng);
    index.insert_unique(1, 5, 42, rng);
    CHECK(index.bucket_size(1, 5) == 1);
    index.clear_table(1);
    CHECK(index.bucket_size(1, 5) == 0);
    CHECK(index.ids_below(43));
    index.insert(0, 2, 99, rng);
    CHECK(!index.ids_below(99) && index.ids_below(100));
  }
  {
    // Shapes are checked, without overflow, before anything is allocated: R + 1 used to wrap.
    auto refused = [](uint32_t l, uint32_t k, uint32_t r) {
      try {
        LshIndex::words_for(l, k, r);
      } catch (const std::invalid_argument&) {
        return true;
      }
      return false;
    };
    CHECK(LshIndex::words_for(2, 3, 3) == 2 * 8 * 4);
    CHECK(refused(1, 4, 0xffffffffu) && refused(0, 4, 2) && refused(4097, 4, 2) && refused(1, 31, 2));
    CHECK(refused(4096, 30, 1) && refused(1, 30, LshIndex::kMaxCapacity));
    CHECK(!refused(1, 1, LshIndex::kMaxCapacity));
  }
  {
    // A 16-bit index (a model file's tables) reads the same ids as the 32-bit one it came from,
    // refuses changes until widened, and widens to equal 32-bit words.
    LshIndex wide(3, 2, 4, BucketPolicy::Fifo);
    for (uint32_t n = 0; n < 40; ++n) wide.insert(n % 3, n % 4, 1000 + n, rng);
    const auto& words = *wide.words();
    auto narrow_words = std::make_shared<AlignedArray<uint16_t>>(words.size());
    std::copy(words.data(), words.data() + words.size(), narrow_words->data());
    LshIndex narrow(3, 2, 4, BucketPolicy::Fifo, narrow_words);
    CHECK(narrow.narrow() && narrow.memory_bytes() * 2 == wide.memory_bytes());
    CHECK(narrow.ids_below(1040) && !narrow.ids_below(1039));
    for (uint32_t t = 0; t < 3; ++t)
      for (uint32_t c = 0; c < 4; ++c) {
        std::vector<uint32_t> a, b;
        wide.for_each_id(t, c, [&](uint32_t id) { a.push_back(id); });
        narrow.for_each_id(t, c, [&](uint32_t id) { b.push_back(id); });
        CHECK(a == b && narrow.bucket_size(t, c) == wide.bucket_size(t, c));
      }
    bool refused = false;
    try {
      narrow.clear_table(0);
    } catch (const std::logic_error&) {
      refused = true;
    }
    CHECK(refused);
    narrow.widen();
    CHECK(!narrow.narrow() && !narrow.narrow_words());
    CHECK(std::equal(words.data(), words.data() + words.size(), narrow.words()->data()));
    narrow.insert(0, 0, 7, rng);
    CHECK(narrow.bucket_size(0, 0) == 4);
  }
  return udt_test::finish("test_lsh_index");
}
