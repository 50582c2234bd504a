#include "graph_index.h"

#include <utility>

#include "offsets_check.h"

namespace udt {

void GraphIndex::add_node(int64_t node, const uint32_t* f, size_t nf, const uint32_t* l, size_t nl) {
  slot_of_[node] = uint32_t(nodes.size());
  nodes.push_back(node);
  features.insert(features.end(), f, f + nf);
  feature_offsets.push_back(int64_t(features.size()));
  labels.insert(labels.end(), l, l + nl);
  label_offsets.push_back(int64_t(labels.size()));
}

bool GraphIndex::find(int64_t node, const uint32_t** f, size_t* nf, const uint32_t** l, size_t* nl) const {
  auto it = slot_of_.find(node);
  if (it == slot_of_.end()) return false;
  const size_t s = it->second;
  *f = features.data() + feature_offsets[s];
  *nf = size_t(feature_offsets[s + 1] - feature_offsets[s]);
  *l = labels.data() + label_offsets[s];
  *nl = size_t(label_offsets[s + 1] - label_offsets[s]);
  return true;
}

void GraphIndex::clear() {
  slot_of_.clear();
  nodes.clear();
  feature_offsets.assign(1, 0);
  features.clear();
  label_offsets.assign(1, 0);
  labels.clear();
}

void GraphIndex::rebuild_lookup() {
  slot_of_.clear();
  for (size_t s = 0; s < nodes.size(); ++s) slot_of_[nodes[s]] = uint32_t(s);  // later slots win
}

void GraphIndex::load(std::vector<int64_t> nodes_, std::vector<int64_t> feature_offsets_,
                      std::vector<uint32_t> features_, std::vector<int64_t> label_offsets_,
                      std::vector<uint32_t> labels_) {
  const size_t n = nodes_.size();
  check_offsets(feature_offsets_.data(), feature_offsets_.size(), n + 1, features_.size(), "graph feature_offsets");
  check_offsets(label_offsets_.data(), label_offsets_.size(), n + 1, labels_.size(), "graph label_offsets");
  nodes = std::move(nodes_);
  feature_offsets = std::move(feature_offsets_);
  features = std::move(features_);
  label_offsets = std::move(label_offsets_);
  labels = std::move(labels_);
  rebuild_lookup();
}

}  // namespace udt
