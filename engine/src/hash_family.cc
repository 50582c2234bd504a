#include "hash_family.h"

#include <algorithm>
#include <stdexcept>

#include "dwta_kernels.h"
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
  n_hashes_ = num_tables * hashes_per_table_;
  padded_hashes_ = (n_hashes_ + kLanes - 1) / kLanes * kLanes;
  positions_.assign(size_t(kBinSize) * padded_hashes_, 0);  // padding lanes read coordinate 0, never used
  Rng rng(seed);
  uint16_t bin[kBinSize];
  for (uint32_t h = 0; h < n_hashes_; ++h) {
    sample_positions(rng, dim, kBinSize, bin);
    for (uint32_t j = 0; j < kBinSize; ++j) positions_[size_t(j) * padded_hashes_ + h] = bin[j];
  }
}

void DwtaHash::hash(const float* x, uint32_t table_begin, uint32_t table_end, uint32_t* codes) const {
  const uint32_t mask = bits_ >= 32 ? 0xffffffffu : ((1u << bits_) - 1);
  const uint32_t h_begin = table_begin * hashes_per_table_, h_end = table_end * hashes_per_table_;
  const uint32_t block_begin = h_begin / kLanes * kLanes;
  const uint32_t block_end = (h_end + kLanes - 1) / kLanes * kLanes;
  uint8_t stack_winners[512];
  std::vector<uint8_t> heap_winners;
  uint8_t* winners = stack_winners;
  if (block_end - block_begin > sizeof(stack_winners)) {
    heap_winners.resize(block_end - block_begin);
    winners = heap_winners.data();
  }
  for (uint32_t b = block_begin; b < block_end; b += kLanes)
    dwta::winners16(x, &positions_[b], padded_hashes_, winners + (b - block_begin));

  for (uint32_t t = table_begin; t < table_end; ++t) {
    uint8_t* w = winners + (t * hashes_per_table_ - block_begin);
    bool any_empty = false;
    for (uint32_t h = 0; h < hashes_per_table_; ++h) any_empty |= w[h] == dwta::kEmptyBin;
    if (any_empty) {
      // Densification: an empty bin takes the winner of another bin of the same table,
      // probed in a fixed pseudo-random order, so similar vectors still collide.
      for (uint32_t h = 0; h < hashes_per_table_; ++h) {
        if (w[h] != dwta::kEmptyBin) continue;
        uint8_t borrowed = 0;
        for (uint32_t attempt = 1; attempt <= 2 * hashes_per_table_ + 8; ++attempt) {
          uint32_t other = static_cast<uint32_t>(derive_seed(t, h, attempt) % hashes_per_table_);
          if (w[other] != dwta::kEmptyBin) { borrowed = w[other]; break; }
        }
        w[h] = borrowed;
      }
    }
    uint32_t code = 0;
    for (uint32_t h = 0; h < hashes_per_table_; ++h) code |= uint32_t(w[h]) << (h * kBitsPerHash);
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
