// The network's state outside a training batch: epoch ends, the LSH index's shape and
// counters, and checking restored state. Each call holds the model lock (network.h).
#include <algorithm>
#include <stdexcept>
#include <string>

#include "network.h"

namespace udt {

void Network::end_epoch() {
  const auto lock = lock_.writing();
  if (uses_lsh()) output_.sampler->end_epoch();
}

void Network::rebuild_index() {
  const auto lock = lock_.writing();
  if (uses_lsh()) output_.sampler->rebuild(output_.weights, pool_);
}

void Network::set_lsh_shape(uint32_t num_tables, uint32_t capacity) {
  const auto lock = lock_.writing();
  if (uses_lsh()) output_.sampler->set_shape(num_tables, capacity);
}

void Network::restore_lsh(uint32_t num_tables, uint32_t capacity, const uint32_t* words, size_t n_words,
                          std::shared_ptr<void> owner) {
  if (!uses_lsh()) throw std::invalid_argument("lsh.buckets: this network's output layer is dense (no LSH index)");
  const uint32_t bits = output_.sampler->params().bits;
  const size_t expected = LshIndex::words_for(num_tables, bits, capacity);
  if (n_words != expected)
    throw std::invalid_argument("lsh.buckets has " + std::to_string(n_words) + " words; L=" +
                                std::to_string(num_tables) + " tables of 2^" + std::to_string(bits) +
                                " buckets of R=" + std::to_string(capacity) + " ids take " + std::to_string(expected));
  if (!LshIndex::ids_below(words, num_tables, 1u << bits, capacity, config_.output_dim))
    throw std::invalid_argument("lsh.buckets holds a neuron id >= output_dim (" + std::to_string(config_.output_dim) +
                                ")");
  const auto lock = lock_.writing();
  LshSampler& sampler = *output_.sampler;
  if (owner && reinterpret_cast<uintptr_t>(words) % 64 == 0) {
    auto tables = std::make_shared<AlignedArray<uint32_t>>();
    tables->adopt(const_cast<uint32_t*>(words), n_words, std::move(owner));
    sampler.set_shape(num_tables, capacity, std::move(tables));
    return;
  }
  sampler.set_shape(num_tables, capacity);
  std::copy(words, words + n_words, sampler.index().words()->data());
}

void Network::validate_state() const {
  const auto lock = lock_.reading();
  if (uses_lsh() && !output_.sampler->index().ids_below(config_.output_dim))
    throw std::invalid_argument("lsh.buckets holds a neuron id >= output_dim (" + std::to_string(config_.output_dim) +
                                ")");
}

uint64_t Network::batches_trained() const {
  const auto lock = lock_.reading();
  return batches_;
}

void Network::set_batches_trained(uint64_t batches) {
  const auto lock = lock_.writing();
  batches_ = batches;
}

PhaseTimes Network::phase_times() const {
  const auto lock = lock_.reading();
  return phase_times_;
}

LshInfo Network::lsh_info() const {
  if (!uses_lsh()) throw std::logic_error("lsh_info: this network's output layer is dense");
  const auto lock = lock_.reading();
  const LshSampler& s = *output_.sampler;
  return LshInfo{s.params(), train_lsh_, s.kind(), s.policy(), s.rebuilds(), s.index().memory_bytes()};
}

std::vector<uint64_t> Network::lsh_schedule_state() const {
  const auto lock = lock_.reading();
  return uses_lsh() ? output_.sampler->schedule_state() : std::vector<uint64_t>{};
}

void Network::set_lsh_schedule_state(const std::vector<uint64_t>& state) {
  const auto lock = lock_.writing();
  if (uses_lsh()) output_.sampler->set_schedule_state(state);
}

}  // namespace udt
