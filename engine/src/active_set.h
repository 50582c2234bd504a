#pragma once
// Chooses which output neurons a sample evaluates (paper sections 3 and 4.3): the union
// of the buckets its hidden activation hashes to, ranked by how many tables retrieved
// each neuron, cut or topped up with random neurons to exactly `k`. In training the
// true labels are always included; a label that no table retrieved is reported so its
// neuron can be added to those buckets (label-neuron augmentation).
#include <cstdint>
#include <mutex>
#include <vector>

#include "lsh_index.h"
#include "random.h"

namespace udt {

class ActiveSetSelector {
 public:
  explicit ActiveSetSelector(uint32_t dim = 0) { resize(dim); }
  void resize(uint32_t dim);

  // Fills `active` (ascending ids, size min(k, dim) or more when labels exceed k) from the
  // buckets `codes[t]` of every table. `labels` are forced in; labels no table returned
  // are appended to `missed_labels`. At most `max_retrieved` neurons come from the tables
  // (beyond the labels); the rest of the k are drawn uniformly. Returns the number of
  // distinct neurons retrieved.
  uint32_t select(const LshIndex& index, const uint32_t* codes, uint32_t k, const uint32_t* labels,
                  uint32_t n_labels, Rng& rng, std::vector<uint32_t>& active,
                  std::vector<uint32_t>* missed_labels, uint32_t max_retrieved = UINT32_MAX);

 private:
  void top_up(uint32_t k, Rng& rng, std::vector<uint32_t>& active);
  void sort_ids(std::vector<uint32_t>& ids);  // LSD radix sort: ~10x faster than std::sort here

  uint32_t dim_ = 0;
  std::vector<uint16_t> votes_;     // per neuron: tables that retrieved it (kChosen once taken)
  std::vector<uint32_t> retrieved_; // neurons with votes > 0, in retrieval order
  std::vector<uint32_t> tier_count_;
  std::vector<uint32_t> sort_buffer_;
};

// Selectors hold an output_dim-sized vote array; concurrent predict calls each borrow
// one so they never share scratch, and return it for reuse.
class SelectorPool {
 public:
  explicit SelectorPool(uint32_t dim) : dim_(dim) {}
  ActiveSetSelector take();
  void give(ActiveSetSelector&& selector);

 private:
  uint32_t dim_;
  std::mutex mutex_;
  std::vector<ActiveSetSelector> free_;
};

}  // namespace udt
