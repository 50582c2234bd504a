#include "temporal_history.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "column_features.h"
#include "hash.h"
#include "offsets_check.h"

namespace udt {
namespace {

constexpr uint64_t kEmptyHistory = 0x454d505459ULL;
constexpr uint64_t kRecency = 0x524543454e4359ULL;
constexpr uint64_t kSince = 0x53494e4345ULL;

// 0, 1, 2, 3-4, 5-8, 9-16, ...: recent positions are told apart, old ones grouped.
uint64_t position_bucket(int p) {
  if (p < 3) return uint64_t(p);
  int b = 3;
  for (int limit = 4; p >= limit + 1; limit *= 2) ++b;
  return uint64_t(b);
}

uint64_t log2_bucket(int64_t seconds) {
  uint64_t b = 0;
  while (seconds > 0) {
    seconds >>= 1;
    ++b;
  }
  return b;
}

}  // namespace

void TemporalHistory::read(uint64_t key, int64_t ts, const std::vector<uint64_t>& salts, RowBuilder& row) const {
  auto it = by_key_.find(key);
  for (int t = 0; t < n_tracked_; ++t) {
    const uint64_t salt = salts[size_t(t)];
    int p = 0;
    if (it != by_key_.end()) {
      const auto& events = it->second[size_t(t)];
      // Events are sorted by ts: start from the newest one strictly before ts.
      auto end = std::lower_bound(events.begin(), events.end(), ts,
                                  [](const HistoryEvent& e, int64_t v) { return e.ts < v; });
      for (auto e = end; e != events.begin() && p < length_; ++p) {
        --e;
        const uint64_t item = hash_combine(salt, e->value);
        row.emit(item, 1.0f / float(1 + p));
        row.emit(hash_combine(hash_combine(item, kRecency), position_bucket(p)), 1.0f);
        if (p == 0) row.emit(hash_combine(hash_combine(salt, kSince), log2_bucket(ts - e->ts)), 1.0f);
      }
    }
    if (p == 0) row.emit(hash_combine(salt, kEmptyHistory), 1.0f);
  }
}

void TemporalHistory::record(uint64_t key, int64_t ts, int tracked, uint64_t value) {
  auto& lists = by_key_[key];
  if (lists.empty()) lists.resize(size_t(n_tracked_));
  auto& events = lists[size_t(tracked)];
  // Usually appends at the end; an out-of-order event is inserted after equal timestamps.
  auto pos = std::upper_bound(events.begin(), events.end(), ts,
                              [](int64_t v, const HistoryEvent& e) { return v < e.ts; });
  if (pos == events.begin() && int(events.size()) >= length_) return;  // older than everything kept
  events.insert(pos, HistoryEvent{ts, value});
  if (int(events.size()) > length_) events.erase(events.begin());
}

TemporalHistory::Flat TemporalHistory::export_flat() const {
  // Sorted keys make the exported state identical run to run.
  std::map<uint64_t, const std::vector<std::vector<HistoryEvent>>*> sorted;
  for (const auto& kv : by_key_) sorted[kv.first] = &kv.second;
  Flat f;
  for (const auto& kv : sorted) {
    f.keys.push_back(kv.first);
    for (const auto& events : *kv.second) {
      for (const auto& e : events) {
        f.ts.push_back(e.ts);
        f.values.push_back(e.value);
      }
      f.offsets.push_back(int64_t(f.ts.size()));
    }
  }
  return f;
}

void TemporalHistory::import_flat(const uint64_t* keys, size_t n_keys, const int64_t* offsets, size_t n_offsets,
                                  const int64_t* ts, const uint64_t* values, size_t n_events) {
  const size_t per_key = size_t(n_tracked_);
  if (per_key != 0 && n_keys > (SIZE_MAX - 1) / per_key)
    throw std::invalid_argument("temporal history: " + std::to_string(n_keys) + " keys is too many");
  check_offsets(offsets, n_offsets, n_keys * per_key + 1, n_events, "temporal history");
  std::unordered_map<uint64_t, std::vector<std::vector<HistoryEvent>>> by_key;
  for (size_t k = 0; k < n_keys; ++k) {
    auto& lists = by_key[keys[k]];
    if (!lists.empty()) throw std::invalid_argument("temporal history: key " + std::to_string(keys[k]) + " repeats");
    lists.resize(per_key);
    for (size_t t = 0; t < per_key; ++t) {
      const size_t slot = k * per_key + t;
      for (int64_t i = offsets[slot]; i < offsets[slot + 1]; ++i) {
        if (i > offsets[slot] && ts[i] < ts[i - 1])
          throw std::invalid_argument("temporal history: events of key " + std::to_string(keys[k]) +
                                      " are not in time order");
        lists[t].push_back({ts[i], values[i]});
      }
    }
  }
  by_key_.swap(by_key);
}

}  // namespace udt
