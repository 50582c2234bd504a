#pragma once
// A copy-on-write (MAP_PRIVATE) mapping of a byte range of an open file, and CRC-32C over memory.
//
// Model files put their large arrays at page-aligned offsets, rows padded to the engine's stride,
// so an AlignedMatrix can adopt the mapping instead of copying the bytes: every process that maps
// the file shares its clean pages through the page cache, and a write (training after loading)
// copies only the page it touches into the process, never into the file.
#include <cstddef>
#include <cstdint>

namespace udt {

class FileMapping {
 public:
  // Maps `length` bytes of `fd` from `offset` (a multiple of page_size()) read-write, private.
  // The descriptor may be closed afterwards. Throws std::system_error when mmap fails.
  FileMapping(int fd, uint64_t offset, size_t length);
  // `length` bytes of anonymous private memory (zero pages), owned the same way: what a model file's
  // reduced-precision weights are widened into, so the engine adopts them as it adopts a file's.
  explicit FileMapping(size_t length);
  ~FileMapping();
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(base_); }
  size_t size() const { return length_; }
  static size_t page_size();

 private:
  void* base_ = nullptr;
  size_t length_ = 0;
};

// CRC-32C (Castagnoli) of n bytes, continuing from `crc` (0 to start): the SSE4.2 instruction
// where the CPU has it (several GB/s), a table otherwise. crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace udt
