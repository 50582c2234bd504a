#pragma once
// Locality-sensitive hash families over dense float vectors (a hidden activation, or a
// neuron's weight row). A family produces one K-bit bucket code per table for L tables.
//  - DWTA (densified winner-take-all, Chen & Shrivastava 2018): each hash is the argmax
//    position inside a random bin of `bin_size` coordinates; rank-based, so it suits ReLU
//    activations. Empty bins (all zero) borrow the code of another bin (densification).
//  - SRP (signed random projections): each bit is the sign of a sparse +-1 projection;
//    sensitive to angle. Costlier: K*L*dim/3 multiply-adds per vector.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace udt {

enum class HashKind { Dwta, Srp };
HashKind parse_hash_kind(const std::string& name);
const char* hash_kind_name(HashKind kind);

class HashFamily {
 public:
  virtual ~HashFamily() = default;
  // Writes codes for tables [table_begin, table_end) into codes[0 .. table_end - table_begin).
  virtual void hash(const float* x, uint32_t table_begin, uint32_t table_end, uint32_t* codes) const = 0;
  void hash_all(const float* x, uint32_t* codes) const { hash(x, 0, num_tables_, codes); }
  uint32_t num_tables() const { return num_tables_; }
  uint32_t bits() const { return bits_; }

 protected:
  HashFamily(uint32_t bits, uint32_t num_tables) : bits_(bits), num_tables_(num_tables) {}
  uint32_t bits_, num_tables_;
};

class DwtaHash final : public HashFamily {
 public:
  static constexpr uint32_t kBinSize = 8;  // argmax of 8 coordinates = 3 bits per hash
  static constexpr uint32_t kBitsPerHash = 3;
  static constexpr uint32_t kLanes = 16;   // hashes evaluated together (dwta_kernels.h)
  DwtaHash(uint32_t dim, uint32_t bits, uint32_t num_tables, uint64_t seed);
  void hash(const float* x, uint32_t table_begin, uint32_t table_end, uint32_t* codes) const override;

 private:
  uint32_t dim_, hashes_per_table_, n_hashes_, padded_hashes_;
  // Bin coordinates transposed, [kBinSize][padded_hashes_]: coordinate j of hashes
  // h..h+15 is one contiguous load, so 16 hashes cost 8 gathers instead of 128 loads.
  std::vector<int32_t> positions_;
};

class SrpHash final : public HashFamily {
 public:
  SrpHash(uint32_t dim, uint32_t bits, uint32_t num_tables, uint64_t seed);
  void hash(const float* x, uint32_t table_begin, uint32_t table_end, uint32_t* codes) const override;

 private:
  uint32_t dim_, nnz_per_bit_;
  std::vector<uint16_t> positions_;  // [table][bit][nnz_per_bit_]
  std::vector<uint8_t> negative_;    // same layout: 1 where the projection weight is -1
};

std::unique_ptr<HashFamily> make_hash_family(HashKind kind, uint32_t dim, uint32_t bits, uint32_t num_tables,
                                             uint64_t seed);

}  // namespace udt
