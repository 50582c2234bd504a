#include "hash_family.h"

#include <algorithm>
#include <stdexcept>

#include "random.h"

namespace udt {

HashKind parse_hash_kind(const std::string& name) {
  if (name == "dwta") return HashKind::Dwta;
  if (name == "srp") return HashKind::Srp;
  throw std::invalid_argument("hash_family must be 'dwta' or 'srp', got '" + name + "'");
}

const char* hash_kind_name(HashKind kind) { return kind == HashKind::Dwta ? "dwta" : "srp"; }

// Distinct coordinates for one bin; with fewer coordinates than the bin size, repeats
// are unavoidable and harmless (argmax picks the first).
static void sample_positions(Rng& rng, uint32_t dim, uint32_t count, uint16_t* out) {
  for (uint32_t i = 0; i < count; ++i) {
    for (int attempt = 0;; ++attempt) {
      uint16_t p = static_cast<uint16_t>(rng.below(dim));
      bool repeated = std::find(out, out + i, p) != out + i;
      if (!repeated || attempt > 8 || count > dim) { out[i] = p; break; }
    }
  }
}

DwtaHash::DwtaHash(uint32_t dim, uint32_t bits, uint32_t num_tables, uint64_t seed)
    : HashFamily(bits, num_tables), dim_(dim),
      hashes_per_table_((bits + kBitsPerHash - 1) / kBitsPerHash) {
  if (dim > 65535) throw std::invalid_argument("DWTA hashing supports vectors of at most 65535 dims");
  positions_.resize(size_t(num_tables) * hashes_per_table_ * kBinSize);
  Rng rng(seed);
  for (size_t h = 0; h < size_t(num_tables) * hashes_per_table_; ++h)
    sample_positions(rng, dim, kBinSize, &positions_[h * kBinSize]);
}

void DwtaHash::hash(const float* x, uint32_t table_begin, uint32_t table_end, uint32_t* codes) const {
  const uint32_t mask = bits_ >= 32 ? 0xffffffffu : ((1u << bits_) - 1);
  constexpr uint32_t kEmpty = 0xffffffffu;
  uint32_t winners[64];
  for (uint32_t t = table_begin; t < table_end; ++t) {
    const uint16_t* pos = &positions_[size_t(t) * hashes_per_table_ * kBinSize];
    bool any_empty = false;
    for (uint32_t h = 0; h < hashes_per_table_; ++h) {
      const uint16_t* bin = pos + h * kBinSize;
      // Branchless argmax (first maximum wins): the comparisons are data-dependent coin
      // flips, so branches here would mispredict about half the time.
      uint32_t best = 0;
      float best_value = x[bin[0]];
      float min_value = best_value;
      for (uint32_t j = 1; j < kBinSize; ++j) {
        float v = x[bin[j]];
        bool greater = v > best_value;
        best = greater ? j : best;
        best_value = greater ? v : best_value;
        min_value = v < min_value ? v : min_value;
      }
      bool all_zero = best_value == 0.0f && min_value == 0.0f;
      winners[h] = all_zero ? kEmpty : best;
      any_empty |= all_zero;
    }
    if (any_empty) {
      // Densification: an empty bin takes the winner of another bin of the same table,
      // probed in a fixed pseudo-random order, so similar vectors still collide.
      for (uint32_t h = 0; h < hashes_per_table_; ++h) {
        if (winners[h] != kEmpty) continue;
        uint32_t borrowed = 0;
        for (uint32_t attempt = 1; attempt <= 2 * hashes_per_table_ + 8; ++attempt) {
          uint32_t other = static_cast<uint32_t>(derive_seed(t, h, attempt) % hashes_per_table_);
          if (winners[other] != kEmpty) { borrowed = winners[other]; break; }
        }
        winners[h] = borrowed;
      }
    }
    uint32_t code = 0;
    for (uint32_t h = 0; h < hashes_per_table_; ++h) code |= winners[h] << (h * kBitsPerHash);
    codes[t - table_begin] = code & mask;
  }
}

SrpHash::SrpHash(uint32_t dim, uint32_t bits, uint32_t num_tables, uint64_t seed)
    : HashFamily(bits, num_tables), dim_(dim), nnz_per_bit_(std::max<uint32_t>(1, dim / 3)) {
  if (dim > 65535) throw std::invalid_argument("SRP hashing supports vectors of at most 65535 dims");
  if (bits > 31) throw std::invalid_argument("SRP hashing supports at most 31 bits per table");
  size_t n = size_t(num_tables) * bits * nnz_per_bit_;
  positions_.resize(n);
  negative_.resize(n);
  Rng rng(seed);
  for (size_t b = 0; b < size_t(num_tables) * bits; ++b) {
    sample_positions(rng, dim, nnz_per_bit_, &positions_[b * nnz_per_bit_]);
    for (uint32_t j = 0; j < nnz_per_bit_; ++j) negative_[b * nnz_per_bit_ + j] = rng.next() & 1;
  }
}

void SrpHash::hash(const float* x, uint32_t table_begin, uint32_t table_end, uint32_t* codes) const {
  for (uint32_t t = table_begin; t < table_end; ++t) {
    uint32_t code = 0;
    for (uint32_t b = 0; b < bits_; ++b) {
      size_t base = (size_t(t) * bits_ + b) * nnz_per_bit_;
      float s = 0.0f;
      for (uint32_t j = 0; j < nnz_per_bit_; ++j) {
        float v = x[positions_[base + j]];
        s += negative_[base + j] ? -v : v;
      }
      code |= uint32_t(s > 0.0f) << b;
    }
    codes[t - table_begin] = code;
  }
}

std::unique_ptr<HashFamily> make_hash_family(HashKind kind, uint32_t dim, uint32_t bits, uint32_t num_tables,
                                             uint64_t seed) {
  if (bits == 0 || bits > 30) throw std::invalid_argument("LSH K (bits per table) must be in [1, 30]");
  if (num_tables == 0) throw std::invalid_argument("LSH L (number of tables) must be >= 1");
  if (kind == HashKind::Dwta) {
    if ((bits + DwtaHash::kBitsPerHash - 1) / DwtaHash::kBitsPerHash > 64)
      throw std::invalid_argument("DWTA: too many bits per table");
    return std::make_unique<DwtaHash>(dim, bits, num_tables, seed);
  }
  return std::make_unique<SrpHash>(dim, bits, num_tables, seed);
}

}  // namespace udt
