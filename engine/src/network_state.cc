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

namespace {

template <typename Word>
void restore_tables(LshSampler& sampler, uint32_t output_dim, uint32_t num_tables, uint32_t capacity,
                    const Word* words, size_t n_words, std::shared_ptr<void> owner, ModelLock& lock,
                    ThreadPool& pool) {
  const uint32_t bits = sampler.params().bits;
  const size_t expected = LshIndex::words_for(num_tables, bits, capacity);
  if (n_words != expected)
    throw std::invalid_argument("lsh.buckets has " + std::to_string(n_words) + " words; L=" +
                                std::to_string(num_tables) + " tables of 2^" + std::to_string(bits) +
                                " buckets of R=" + std::to_string(capacity) + " ids take " + std::to_string(expected));
  if (!LshIndex::ids_below(words, num_tables, 1u << bits, capacity, output_dim, &pool))
    throw std::invalid_argument("lsh.buckets holds a neuron id >= output_dim (" + std::to_string(output_dim) + ")");
  if (owner && reinterpret_cast<uintptr_t>(words) % 64 == 0) {  // in place: the file's pages, at their width
    auto storage = std::make_shared<AlignedArray<Word>>();
    storage->adopt(const_cast<Word*>(words), n_words, std::move(owner));
    const auto writing = lock.writing();
    sampler.restore_tables(LshIndex(num_tables, bits, capacity, sampler.policy(), std::move(storage)));
    return;
  }
  // A copy (another replica's tables, a file read without mapping) goes into 32-bit words of the
  // sampler's own: set_shape frees the old tables before allocating, or keeps them when the shape is the same.
  const auto writing = lock.writing();
  sampler.set_shape(num_tables, capacity);
  std::copy(words, words + n_words, sampler.index().words()->data());
}

}  // namespace

void Network::restore_lsh(uint32_t num_tables, uint32_t capacity, const uint32_t* words, size_t n_words,
                          std::shared_ptr<void> owner) {
  if (!uses_lsh()) throw std::invalid_argument("lsh.buckets: this network's output layer is dense (no LSH index)");
  restore_tables(*output_.sampler, config_.output_dim, num_tables, capacity, words, n_words, std::move(owner), lock_,
                 pool_);
}

void Network::restore_lsh(uint32_t num_tables, uint32_t capacity, const uint16_t* words, size_t n_words,
                          std::shared_ptr<void> owner) {
  if (!uses_lsh()) throw std::invalid_argument("lsh.buckets: this network's output layer is dense (no LSH index)");
  restore_tables(*output_.sampler, config_.output_dim, num_tables, capacity, words, n_words, std::move(owner), lock_,
                 pool_);
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
