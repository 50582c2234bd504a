#include "id_map.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>

#include "hash.h"

namespace udt {
namespace {

int table_bits(size_t n) {
  int bits = 4;
  while ((size_t(1) << bits) < 2 * n + 1) ++bits;
  return bits;
}

// Fibonacci hashing: the top `bits` bits of id x 2^64 / phi.
size_t slot(uint32_t id, int bits) { return size_t((uint64_t(id) * 0x9E3779B97F4A7C15ULL) >> (64 - bits)); }

}  // namespace

IdIndex::IdIndex(size_t expected) : bits_(table_bits(expected)) {
  keys_.assign(size_t(1) << bits_, 0);
  index_.assign(size_t(1) << bits_, 0);
}

uint32_t IdIndex::find_or_insert(uint32_t id, uint32_t next, bool& inserted) {
  const size_t mask = keys_.size() - 1;
  for (size_t h = slot(id, bits_);; h = (h + 1) & mask) {
    if (keys_[h] == 0) {
      keys_[h] = id + 1;
      index_[h] = next;
      inserted = true;
      return next;
    }
    if (keys_[h] == id + 1) {
      inserted = false;
      return index_[h];
    }
  }
}

bool IdIndex::find(uint32_t id, uint32_t& index) const {
  const size_t mask = keys_.size() - 1;
  for (size_t h = slot(id, bits_);; h = (h + 1) & mask) {
    if (keys_[h] == id + 1) {
      index = index_[h];
      return true;
    }
    if (keys_[h] == 0) return false;
  }
}

void IdIndex::grow() {
  IdIndex bigger(keys_.size());  // room for as many keys as there are slots now
  for (size_t h = 0; h < keys_.size(); ++h) {
    if (!keys_[h]) continue;
    bool inserted;
    bigger.find_or_insert(keys_[h] - 1, index_[h], inserted);
  }
  *this = std::move(bigger);
}

IdMap::IdMap(std::vector<uint32_t> vocabulary, uint32_t overflow)
    : vocabulary_(std::move(vocabulary)), overflow_(overflow), rows_(vocabulary_.size()) {
  if (overflow_ == 0) throw std::invalid_argument("an id map needs at least one overflow row");
  if (vocabulary_.size() + overflow_ > 0xFFFFFFFFull)
    throw std::invalid_argument("an id map has at most 2^32 - 1 rows");
  for (uint32_t r = 0; r < vocabulary_.size(); ++r) {
    const uint32_t id = vocabulary_[r];
    if (id == 0xFFFFFFFFu) throw std::invalid_argument("id map: id 2^32 - 1 cannot be in a vocabulary");
    bool inserted;
    rows_.find_or_insert(id, r, inserted);
    if (!inserted) throw std::invalid_argument("id map: the vocabulary holds id " + std::to_string(id) + " twice");
  }
}

uint32_t IdMap::row_of(uint32_t id) const {
  uint32_t row;
  if (rows_.find(id, row)) return row;
  return uint32_t(vocabulary_.size()) + reduce_to_dim(fmix64(uint64_t(id) ^ 0x6f766572666c6f77ULL), overflow_);
}

void IdMap::apply(std::vector<uint32_t>& indices, std::vector<float>& values, std::vector<int64_t>& offsets,
                  size_t first_row) const {
  const uint32_t first_overflow = uint32_t(vocabulary_.size());
  if (first_row + 1 >= offsets.size()) return;
  std::vector<uint32_t> slot_ids;  // per row: overflow row + 1 (0 = empty) ...
  std::vector<size_t> slot_pos;    // ... and where it sits
  size_t w = size_t(offsets[first_row]);
  size_t begin = w;
  for (size_t r = first_row; r + 1 < offsets.size(); ++r) {
    const size_t end = size_t(offsets[r + 1]);
    size_t shared = 0;
    for (size_t e = begin; e < end; ++e) {
      indices[e] = row_of(indices[e]);
      shared += indices[e] >= first_overflow;
    }
    if (shared < 2) {  // only overflow rows can repeat (vocabulary rows are distinct ids)
      for (size_t e = begin; e < end; ++e, ++w) {
        indices[w] = indices[e];
        values[w] = values[e];
      }
    } else {  // merge repeated overflow rows: values summed into the first occurrence
      const int bits = table_bits(shared);
      slot_ids.assign(size_t(1) << bits, 0);
      slot_pos.resize(size_t(1) << bits);
      const size_t mask = slot_ids.size() - 1;
      for (size_t e = begin; e < end; ++e) {
        const uint32_t row = indices[e];
        if (row >= first_overflow) {
          size_t h = slot(row, bits);
          while (slot_ids[h] != 0 && slot_ids[h] != row + 1) h = (h + 1) & mask;
          if (slot_ids[h] == row + 1) {
            values[slot_pos[h]] += values[e];
            continue;
          }
          slot_ids[h] = row + 1;
          slot_pos[h] = w;
        }
        indices[w] = row;
        values[w] = values[e];
        ++w;
      }
    }
    begin = end;
    offsets[r + 1] = int64_t(w);
  }
  indices.resize(w);
  values.resize(w);
}

void VocabularyCounter::add(const uint32_t* ids, size_t n) {
  for (size_t i = 0; i < n && !saturated(); ++i) {
    if (ids[i] == 0xFFFFFFFFu) throw std::invalid_argument("id 2^32 - 1 cannot be in a vocabulary");
    if (2 * (first_seen_.size() + 1) >= index_.capacity()) index_.grow();
    bool inserted;
    const uint32_t k = index_.find_or_insert(ids[i], uint32_t(first_seen_.size()), inserted);
    if (inserted) {
      first_seen_.push_back(ids[i]);
      count_.push_back(0);
    }
    ++count_[k];
  }
}

std::vector<uint32_t> VocabularyCounter::choose(size_t max_rows) const {
  std::vector<uint32_t> order(first_seen_.size());
  std::iota(order.begin(), order.end(), 0u);
  auto more_frequent = [&](uint32_t a, uint32_t b) { return count_[a] != count_[b] ? count_[a] > count_[b] : a < b; };
  if (order.size() > max_rows) {
    std::nth_element(order.begin(), order.begin() + ptrdiff_t(max_rows), order.end(), more_frequent);
    order.resize(max_rows);
  }
  std::sort(order.begin(), order.end(), more_frequent);
  std::vector<uint32_t> vocabulary(order.size());
  for (size_t i = 0; i < order.size(); ++i) vocabulary[i] = first_seen_[order[i]];
  return vocabulary;
}

}  // namespace udt
