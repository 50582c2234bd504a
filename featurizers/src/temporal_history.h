// Per-key history of tracked column values (e.g. the items a user interacted with),
// kept in timestamp order. Reading for a row at time t only ever sees events strictly
// before t, so a row never sees itself, a simultaneous row, or the future.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sparse_rows.h"

namespace udt {

struct HistoryEvent {
  int64_t ts;
  uint64_t value;  // hash of the tracked value
};

class TemporalHistory {
 public:
  TemporalHistory(int n_tracked = 0, int length = 10) : n_tracked_(n_tracked), length_(length) {}

  // Emits, for each tracked column t (salted by salts[t]), features of the last `length`
  // events of `key` before `ts`: value weighted by recency, value x recency bucket, and
  // the time since the newest event; or an "empty history" feature.
  void read(uint64_t key, int64_t ts, const std::vector<uint64_t>& salts, RowBuilder& row) const;
  // Inserts an event in timestamp order, keeping the newest `length` per key and column.
  void record(uint64_t key, int64_t ts, int tracked, uint64_t value);
  void clear() { by_key_.clear(); }
  int n_tracked() const { return n_tracked_; }
  int length() const { return length_; }
  size_t n_keys() const { return by_key_.size(); }

  // Flat export/import for save/load: for each key, for each tracked column, its events.
  struct Flat {
    std::vector<uint64_t> keys;
    std::vector<int64_t> offsets{0};  // per (key, tracked) list, keys.size() * n_tracked + 1 entries
    std::vector<int64_t> ts;
    std::vector<uint64_t> values;
  };
  Flat export_flat() const;
  // Replaces the state. Throws std::invalid_argument (state unchanged) unless there are
  // n_keys * n_tracked + 1 offsets, monotone from 0 to n_events, each list in time order.
  void import_flat(const uint64_t* keys, size_t n_keys, const int64_t* offsets, size_t n_offsets,
                   const int64_t* ts, const uint64_t* values, size_t n_events);

 private:
  int n_tracked_;
  int length_;
  std::unordered_map<uint64_t, std::vector<std::vector<HistoryEvent>>> by_key_;
};

}  // namespace udt
