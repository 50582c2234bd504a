#pragma once
// Everything that defines a network and how it trains. Plain data; validate() says
// which field is wrong and what would be right.
#include <cstdint>
#include <string>
#include <vector>

#include "hash_family.h"
#include "loss.h"
#include "lsh_index.h"
#include "lsh_sampler.h"
#include "rowwise_rms.h"
#include "sparse_adam.h"

namespace udt {

struct NetworkConfig {
  uint32_t input_dim = 0;
  uint32_t hidden_dim = 256;
  uint32_t output_dim = 0;
  double output_sparsity = 1.0;  // fraction of output neurons a training sample evaluates
  LossKind loss = LossKind::Softmax;
  AdamConfig adam;
  // The embedding table's optimizer state: Adam's moments per weight, or one per row
  // (rowwise_rms.h). The output layer and the hidden bias always use Adam.
  EmbeddingOptimizer embedding_optimizer = EmbeddingOptimizer::Adam;
  uint64_t seed = 0;
  uint32_t n_threads = 0;        // 0 = all hardware threads
  // Hidden-layer (embedding) rows start uniform with standard deviation
  // embedding_init_scale / sqrt(hidden_dim).
  double embedding_init_scale = 1.0;

  // LSH over the output layer (used when output_sparsity < 1 or `force_lsh`).
  HashKind hash_kind = HashKind::Dwta;
  uint32_t lsh_bits = 0;         // K; 0 = autotune
  uint32_t lsh_tables = 0;       // L; 0 = autotune
  uint32_t lsh_capacity = 0;     // R; 0 = 2 x expected bucket load
  double autotune_c1 = 1.0;
  double autotune_c2 = 0.1;
  uint32_t autotune_max_tables = 256;
  BucketPolicy bucket_policy = BucketPolicy::Reservoir;
  LshSchedule schedule;
  bool label_augmentation = true;
  // Share of a training sample's active set drawn uniformly at random instead of by LSH
  // votes. The top-voted neurons are the hardest negatives, and a softmax over them alone
  // (no sampling correction) over-penalises the label's near neighbours. Measured P@1, share
  // 0 / 0.5 / 0.95: 50k-class prototype task 0.787 / 0.815 / 0.830; debsearch 16k-class
  // subset 0.074 / 0.090 / 0.098; synthetic 200k 0.469 / 0.472 / 0.473; 670k unchanged.
  double random_negatives = 0.95;
  bool force_lsh = false;        // run the LSH path even at sparsity 1 (tests, experiments)
  // false: the weights start at zero and the LSH tables empty, for a network whose state is restored
  // right after construction (a model file): random weights and a first table build would be thrown
  // away (debsearch: 1.4 s of a 5 s load).
  bool initialize = true;

  bool uses_lsh() const { return output_sparsity < 1.0 || force_lsh; }
  void validate() const;  // throws std::invalid_argument
};

// The range of one numeric NetworkConfig field, under the name Python gives it (udt.engine
// keywords). validate() checks every field against this table, and the bindings export it
// (udt._core.engine.config_bounds), so no other layer retypes a bound.
struct ConfigBound {
  const char* name;
  double min, max;
  bool min_inclusive, max_inclusive;
  bool integer;
  double (*get)(const NetworkConfig&);
};
const std::vector<ConfigBound>& config_bounds();

// "auto" output sparsity: dense below 8192 outputs; above, 0.02 * sqrt(65536 / d), which
// keeps the active set growing slowly with d (63k -> ~1.3k, 200k -> ~2.3k, 670k -> ~4.2k).
double auto_output_sparsity(uint64_t output_dim);

}  // namespace udt
