#include "active_set.h"

#include <algorithm>

namespace udt {

static constexpr uint16_t kChosen = 0xffff;

void ActiveSetSelector::resize(uint32_t dim) {
  dim_ = dim;
  votes_.assign(dim, 0);
  retrieved_.clear();
}

uint32_t ActiveSetSelector::select(const LshIndex& index, const uint32_t* codes, uint32_t k,
                                   const uint32_t* labels, uint32_t n_labels, Rng& rng,
                                   std::vector<uint32_t>& active, std::vector<uint32_t>* missed_labels,
                                   uint32_t max_retrieved) {
  active.clear();
  retrieved_.clear();
  const uint32_t n_tables = index.num_tables();
  // Buckets live in a large index: start every table's miss now, read them after.
  for (uint32_t t = 0; t < n_tables; ++t) index.prefetch(t, codes[t]);
  for (uint32_t t = 0; t < n_tables; ++t) {
    index.for_each_id(t, codes[t], [&](uint32_t id) {
      if (id >= dim_) return;  // a corrupted (restored) bucket must not index past votes_
      uint16_t& v = votes_[id];
      if (v++ == 0) retrieved_.push_back(id);
    });
  }
  const uint32_t n_retrieved = static_cast<uint32_t>(retrieved_.size());

  for (uint32_t j = 0; j < n_labels; ++j) {
    uint32_t label = labels[j];
    if (votes_[label] == kChosen) continue;  // duplicate label
    if (votes_[label] == 0 && missed_labels) missed_labels->push_back(label);
    if (votes_[label] == 0) retrieved_.push_back(label);  // so it gets reset below
    votes_[label] = kChosen;
    active.push_back(label);
  }

  uint32_t room = k > active.size() ? k - static_cast<uint32_t>(active.size()) : 0;
  room = std::min(room, max_retrieved);
  uint32_t candidates = 0;
  for (uint32_t id : retrieved_) candidates += votes_[id] != kChosen;
  if (candidates <= room) {
    for (uint32_t id : retrieved_)
      if (votes_[id] != kChosen) { votes_[id] = kChosen; active.push_back(id); }
  } else if (room > 0) {
    // Counting sort by votes: take every neuron above the threshold tier, then fill
    // from the threshold tier in retrieval order.
    tier_count_.assign(n_tables + 2, 0);
    for (uint32_t id : retrieved_)
      if (votes_[id] != kChosen) ++tier_count_[std::min<uint32_t>(votes_[id], n_tables + 1)];
    uint32_t threshold = n_tables + 1, taken = 0;
    while (threshold > 1 && taken + tier_count_[threshold] < room) taken += tier_count_[threshold--];
    uint32_t from_threshold = room - taken;
    for (uint32_t id : retrieved_) {
      uint16_t v = votes_[id];
      if (v == kChosen) continue;
      uint32_t tier = std::min<uint32_t>(v, n_tables + 1);
      if (tier > threshold || (tier == threshold && from_threshold > 0)) {
        if (tier == threshold) --from_threshold;
        votes_[id] = kChosen;
        active.push_back(id);
      }
    }
  }
  top_up(k, rng, active);
  for (uint32_t id : retrieved_) votes_[id] = 0;
  for (uint32_t id : active) votes_[id] = 0;
  sort_ids(active);
  return n_retrieved;
}

void ActiveSetSelector::sort_ids(std::vector<uint32_t>& ids) {
  if (ids.size() < 64) { std::sort(ids.begin(), ids.end()); return; }
  constexpr uint32_t kBits = 11, kBuckets = 1u << kBits;
  sort_buffer_.resize(ids.size());
  uint32_t counts[kBuckets];
  for (uint32_t shift = 0; (uint64_t(1) << shift) < dim_; shift += kBits) {
    std::fill(counts, counts + kBuckets, 0u);
    for (uint32_t id : ids) ++counts[(id >> shift) & (kBuckets - 1)];
    uint32_t sum = 0;
    for (uint32_t b = 0; b < kBuckets; ++b) { uint32_t c = counts[b]; counts[b] = sum; sum += c; }
    for (uint32_t id : ids) sort_buffer_[counts[(id >> shift) & (kBuckets - 1)]++] = id;
    ids.swap(sort_buffer_);
  }
}

void ActiveSetSelector::top_up(uint32_t k, Rng& rng, std::vector<uint32_t>& active) {
  if (active.size() >= k) return;
  uint32_t need = k - static_cast<uint32_t>(active.size());
  if (uint64_t(k) * 2 >= dim_) {
    // Dense regime: rejection sampling would stall, so draw from the complement.
    std::vector<uint32_t> rest;
    rest.reserve(dim_ - active.size());
    for (uint32_t id = 0; id < dim_; ++id)
      if (votes_[id] != kChosen) rest.push_back(id);
    for (uint32_t j = 0; j < need; ++j) {
      uint32_t pick = j + rng.below(static_cast<uint32_t>(rest.size()) - j);
      std::swap(rest[j], rest[pick]);
      votes_[rest[j]] = kChosen;
      active.push_back(rest[j]);
    }
    return;
  }
  while (need > 0) {
    uint32_t id = rng.below(dim_);
    if (votes_[id] == kChosen) continue;
    votes_[id] = kChosen;
    active.push_back(id);
    --need;
  }
}

ActiveSetSelector SelectorPool::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.empty()) return ActiveSetSelector(dim_);
  ActiveSetSelector selector = std::move(free_.back());
  free_.pop_back();
  return selector;
}

void SelectorPool::give(ActiveSetSelector&& selector) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.size() < 16) free_.push_back(std::move(selector));
}

}  // namespace udt
