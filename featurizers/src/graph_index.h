// Training nodes of a graph: each node's own feature ids and label ids, so a row can
// aggregate the features and labels of its neighbors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace udt {

class GraphIndex {
 public:
  // Adds (or replaces) a node. Feature ids are already in the hashed space.
  void add_node(int64_t node, const uint32_t* features, size_t n_features, const uint32_t* labels, size_t n_labels);
  // Returns false when the node is unknown; else points at its features and labels.
  bool find(int64_t node, const uint32_t** features, size_t* n_features, const uint32_t** labels,
            size_t* n_labels) const;
  size_t n_nodes() const { return slot_of_.size(); }
  void clear();

  std::vector<int64_t> nodes;  // per slot, flat CSR storage (exported as-is for save/load)
  std::vector<int64_t> feature_offsets{0};
  std::vector<uint32_t> features;
  std::vector<int64_t> label_offsets{0};
  std::vector<uint32_t> labels;
  void rebuild_lookup();  // after assigning the vectors above directly
  // Replaces the whole index (restoring a saved one). Throws std::invalid_argument, index
  // unchanged, unless both offset arrays have one entry per node + 1, monotone from 0 to
  // the length of their array.
  void load(std::vector<int64_t> nodes, std::vector<int64_t> feature_offsets, std::vector<uint32_t> features,
            std::vector<int64_t> label_offsets, std::vector<uint32_t> labels);

 private:
  std::unordered_map<int64_t, uint32_t> slot_of_;
};

}  // namespace udt
