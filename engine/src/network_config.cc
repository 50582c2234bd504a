#include "network_config.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "thread_pool.h"

namespace udt {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kU32 = 4294967295.0;
constexpr double kMaxThreads = double(ThreadPool::kMaxThreads);

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

std::string number(double v, bool integer) {
  char buf[40];
  if (integer && std::isfinite(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

#define UDT_FIELD(expr) [](const NetworkConfig& c) { return double(c.expr); }

// Integer bounds come from how a value is used: hidden_dim indexes DWTA/SRP bins with 16 bits;
// output ids are returned as int32; K, L and R bound the LSH index (LshIndex::words_for checks
// their product when the shape is resolved). Open ends exclude the value (and NaN never passes).
const std::vector<ConfigBound>& config_bounds() {
  static const std::vector<ConfigBound> bounds = {
      {"input_dim", 1, kU32, true, true, true, UDT_FIELD(input_dim)},
      {"hidden_dim", 1, 65535, true, true, true, UDT_FIELD(hidden_dim)},
      {"output_dim", 1, 2147483647.0, true, true, true, UDT_FIELD(output_dim)},
      {"output_sparsity", 0, 1, false, true, false, UDT_FIELD(output_sparsity)},
      {"learning_rate", 0, kInf, false, false, false, UDT_FIELD(adam.learning_rate)},
      {"beta1", 0, 1, true, false, false, UDT_FIELD(adam.beta1)},
      {"beta2", 0, 1, true, false, false, UDT_FIELD(adam.beta2)},
      {"eps", 0, kInf, false, false, false, UDT_FIELD(adam.eps)},
      {"n_threads", 0, kMaxThreads, true, true, true, UDT_FIELD(n_threads)},  // 0 = every hardware thread
      {"embedding_init_scale", 0, kInf, false, false, false, UDT_FIELD(embedding_init_scale)},
      {"lsh_k", 0, LshIndex::kMaxBits, true, true, true, UDT_FIELD(lsh_bits)},  // 0 = autotune
      {"lsh_l", 0, LshIndex::kMaxTables, true, true, true, UDT_FIELD(lsh_tables)},
      {"lsh_r", 0, LshIndex::kMaxCapacity, true, true, true, UDT_FIELD(lsh_capacity)},
      {"autotune_c1", 0, kInf, false, false, false, UDT_FIELD(autotune_c1)},
      {"autotune_c2", 0, kInf, false, false, false, UDT_FIELD(autotune_c2)},
      {"autotune_max_tables", 1, LshIndex::kMaxTables, true, true, true, UDT_FIELD(autotune_max_tables)},
      {"rebuild_interval", 1, kU32, true, true, true, UDT_FIELD(schedule.rebuild_interval)},
      {"rebuild_growth", 1, kInf, true, false, false, UDT_FIELD(schedule.rebuild_growth)},
      {"max_rebuild_interval", 0, kU32, true, true, true, UDT_FIELD(schedule.max_rebuild_interval)},
      {"rehash_every", 0, kU32, true, true, true, UDT_FIELD(schedule.rehash_every)},
      {"rebuild_budget", 0, kInf, false, false, false, UDT_FIELD(schedule.rebuild_budget)},
      {"random_negatives", 0, 1, true, false, false, UDT_FIELD(random_negatives)},
  };
  return bounds;
}

#undef UDT_FIELD

void NetworkConfig::validate() const {
  for (const ConfigBound& b : config_bounds()) {
    const double v = b.get(*this);
    const bool above = b.min_inclusive ? v >= b.min : v > b.min;
    const bool below = b.max_inclusive ? v <= b.max : v < b.max;
    require(above && below, std::string(b.name) + " must be in " + (b.min_inclusive ? "[" : "(") +
                                number(b.min, b.integer) + ", " + number(b.max, b.integer) +
                                (b.max_inclusive ? "]" : ")") + ", got " + number(v, b.integer));
  }
  if (lsh_bits && lsh_tables && lsh_capacity) LshIndex::words_for(lsh_tables, lsh_bits, lsh_capacity);
  require(loss != LossKind::Mse || output_sparsity == 1.0, "loss='mse' (regression) needs a dense output (output_sparsity=1)");
}

double auto_output_sparsity(uint64_t output_dim) {
  if (output_dim < 8192) return 1.0;
  return std::min(1.0, 0.02 * std::sqrt(65536.0 / double(output_dim)));
}

}  // namespace udt
