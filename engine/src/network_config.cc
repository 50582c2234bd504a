#include "network_config.h"

#include <cmath>
#include <stdexcept>

namespace udt {

static void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

void NetworkConfig::validate() const {
  require(input_dim > 0, "input_dim must be >= 1, got 0");
  require(hidden_dim > 0, "hidden_dim must be >= 1, got 0");
  require(hidden_dim <= 65535, "hidden_dim must be <= 65535 (LSH hashes index it with 16 bits)");
  require(output_dim > 0, "output_dim must be >= 1, got 0");
  require(output_sparsity > 0.0 && output_sparsity <= 1.0,
          "output_sparsity must be in (0, 1], got " + std::to_string(output_sparsity));
  require(adam.learning_rate > 0 && std::isfinite(adam.learning_rate), "learning_rate must be a positive number");
  require(adam.beta1 >= 0 && adam.beta1 < 1, "beta1 must be in [0, 1)");
  require(adam.beta2 >= 0 && adam.beta2 < 1, "beta2 must be in [0, 1)");
  require(adam.eps > 0, "eps must be > 0");
  require(random_negatives >= 0.0 && random_negatives < 1.0, "random_negatives must be in [0, 1)");
  require(embedding_init_scale > 0.0 && std::isfinite(embedding_init_scale),
          "embedding_init_scale must be a finite number > 0");
  require(lsh_bits <= 30, "lsh_k must be in [1, 30], got " + std::to_string(lsh_bits));
  require(lsh_tables <= 4096, "lsh_l must be in [1, 4096], got " + std::to_string(lsh_tables));
  require(autotune_c1 > 0 && autotune_c2 > 0, "autotune constants c1 and c2 must be > 0");
  require(autotune_max_tables >= 1, "autotune max tables must be >= 1");
  require(schedule.rebuild_interval >= 1, "rebuild_interval must be >= 1 batch");
  require(schedule.rebuild_growth >= 1.0, "rebuild_growth must be >= 1");
  require(schedule.rebuild_budget > 0.0, "rebuild_budget must be > 0 (>= 1 turns the cost floor off)");
  require(loss != LossKind::Mse || output_sparsity == 1.0, "loss='mse' (regression) needs a dense output (output_sparsity=1)");
}

double auto_output_sparsity(uint64_t output_dim) {
  if (output_dim < 8192) return 1.0;
  return std::min(1.0, 0.02 * std::sqrt(65536.0 / double(output_dim)));
}

}  // namespace udt
