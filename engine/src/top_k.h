#pragma once
// Keeps the k best (score, id) pairs seen; ties go to the lower id, so the result does
// not depend on the order scores arrive in.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace udt {

class TopK {
 public:
  explicit TopK(uint32_t k) : k_(k) { heap_.reserve(k); }
  void clear() { heap_.clear(); }
  void push(float score, int32_t id) {
    if (heap_.size() < k_) {
      heap_.emplace_back(score, id);
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    } else if (better(score, id, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), worse_first);
      heap_.back() = {score, id};
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    }
  }
  // Writes best first; pads with id -1 / -inf when fewer than k were seen.
  void write(int32_t* ids, float* scores) {
    std::sort(heap_.begin(), heap_.end(), worse_first);  // best first
    for (uint32_t j = 0; j < k_; ++j) {
      ids[j] = j < heap_.size() ? heap_[j].second : -1;
      scores[j] = j < heap_.size() ? heap_[j].first : -std::numeric_limits<float>::infinity();
    }
  }

 private:
  using Entry = std::pair<float, int32_t>;
  static bool better(float s, int32_t id, const Entry& e) { return s > e.first || (s == e.first && id < e.second); }
  // Heap comparator: the root is the worst kept entry; sorting with it orders best first.
  static bool worse_first(const Entry& a, const Entry& b) { return better(a.first, a.second, b); }
  uint32_t k_;
  std::vector<Entry> heap_;
};

}  // namespace udt
