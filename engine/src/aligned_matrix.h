#pragma once
// Row-major float matrix whose rows start on 64-byte boundaries (one cache line,
// one AVX-512 register), so row kernels load aligned and rows never share lines.
// Large arrays ask for transparent huge pages: rows are read in data-dependent order
// across hundreds of MB, where 4 KB pages would make nearly every row a TLB miss
// (20 Newsgroups: epochs 0.84 s with huge pages, 1.0 s without).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace udt {

// Frees what AlignedArray allocated: munmap for a mapping (its length kept here), free otherwise;
// nothing for adopted memory, which its owner (AlignedArray::adopt) releases.
struct AlignedReleaser {
  size_t mapped_bytes = 0;
  bool adopted = false;
  void operator()(void* p) const {
    if (adopted) return;
#if defined(__linux__)
    if (mapped_bytes) {
      munmap(p, mapped_bytes);
      return;
    }
#endif
    std::free(p);
  }
};

template <typename T>
class AlignedArray {
 public:
  AlignedArray() = default;
  explicit AlignedArray(size_t n) { resize(n); }
  // Zero-filled storage for n values. Large arrays are anonymous mappings on Linux: the kernel
  // hands out zero pages on first touch, so memory that is never written (the Adam moments of
  // hashed ids no row contains) is never made resident, and allocating a 2^20-row table costs
  // nothing up front (a memset of 1.5 GB took 0.4-4 s, depending on how long the kernel had to
  // compact memory for huge pages).
  void resize(size_t n) {
    size_ = n;
    data_.reset();
    owner_.reset();
    if (n == 0) return;
    constexpr size_t kHugePage = size_t(2) << 20;
    const bool huge = n * sizeof(T) >= 2 * kHugePage;
    const size_t align = huge ? kHugePage : 64;
    const size_t bytes = ((n * sizeof(T) + align - 1) / align) * align;
#if defined(__linux__)
    if (huge) {
      // Map one huge page more than needed and trim both ends, leaving a 2 MB-aligned range.
      void* raw = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) throw std::bad_alloc();
      const uintptr_t base = reinterpret_cast<uintptr_t>(raw);
      const uintptr_t start = (base + kHugePage - 1) / kHugePage * kHugePage;
      if (start > base) munmap(raw, start - base);
      const size_t tail = base + bytes + kHugePage - (start + bytes);
      if (tail) munmap(reinterpret_cast<void*>(start + bytes), tail);
      void* p = reinterpret_cast<void*>(start);
#if defined(MADV_HUGEPAGE)
      madvise(p, bytes, MADV_HUGEPAGE);  // advisory: ignored where THP is off
#endif
      data_ = std::unique_ptr<T, AlignedReleaser>(static_cast<T*>(p), AlignedReleaser{bytes});
      return;
    }
#endif
    void* p = std::aligned_alloc(align, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    data_ = std::unique_ptr<T, AlignedReleaser>(static_cast<T*>(p), AlignedReleaser{});
  }
  // Uses n values at `data` (64-byte aligned), kept alive by `owner` (a FileMapping of a model
  // file), instead of storage of its own: loading a model without copying its arrays.
  void adopt(T* data, size_t n, std::shared_ptr<void> owner) {
    data_.reset();
    owner_ = std::move(owner);
    data_ = std::unique_ptr<T, AlignedReleaser>(data, AlignedReleaser{0, true});
    size_ = n;
  }
  bool adopted() const { return owner_ != nullptr; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  std::unique_ptr<T, AlignedReleaser> data_;
  std::shared_ptr<void> owner_;  // keeps adopted memory alive; null for storage of our own
  size_t size_ = 0;
};

class AlignedMatrix {
 public:
  AlignedMatrix() = default;
  AlignedMatrix(size_t rows, size_t cols) : rows_(rows), cols_(cols), stride_(stride_for(cols)), data_(rows * stride_) {}
  // Rows padded to 16 floats (64 bytes): every row starts on a cache line.
  static size_t stride_for(size_t cols) { return (cols + 15) / 16 * 16; }
  float* row(size_t r) { return data_.data() + r * stride_; }
  const float* row(size_t r) const { return data_.data() + r * stride_; }
  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  size_t stride() const { return stride_; }  // in floats; padding columns stay zero
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  // Takes rows() x stride() floats at `data` (same shape, padding columns zero) kept alive by
  // `owner`, releasing its own storage. The caller holds the lock that guards the matrix.
  void adopt(float* data, std::shared_ptr<void> owner) {
    if (reinterpret_cast<uintptr_t>(data) % 64 != 0) throw std::invalid_argument("adopted rows must be 64-byte aligned");
    data_.adopt(data, rows_ * stride_, std::move(owner));
  }
  bool adopted() const { return data_.adopted(); }

 private:
  size_t rows_ = 0, cols_ = 0, stride_ = 0;
  AlignedArray<float> data_;
};

// Asks for every cache line of a row ahead of use: a weight row is several lines and
// rows are visited in data-dependent order, which the hardware prefetcher cannot guess.
inline void prefetch_row(const float* row, size_t n_floats) {
  const char* p = reinterpret_cast<const char*>(row);
  for (size_t off = 0; off < n_floats * sizeof(float); off += 64) __builtin_prefetch(p + off);
}

}  // namespace udt
