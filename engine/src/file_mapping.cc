#include "file_mapping.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace udt {

FileMapping::FileMapping(int fd, uint64_t offset, size_t length) : length_(length) {
  if (offset % page_size() != 0)
    throw std::invalid_argument("file mapping offset " + std::to_string(offset) + " is not a multiple of the page size");
  if (length == 0) return;
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap of a model file");
  base_ = p;
}

FileMapping::FileMapping(size_t length) : length_(length) {
  if (length == 0) return;
  // Filled right away: the kernel maps every page in one call (MAP_POPULATE) instead of one fault per
  // page from the threads that fill it.
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "anonymous mapping");
  base_ = p;
}

FileMapping::~FileMapping() {
  if (base_) munmap(base_, length_);
}

size_t FileMapping::page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // Castagnoli, bit-reflected

std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (kPoly & (0u - (c & 1u)));
    t[i] = c;
  }
  return t;
}

uint32_t crc32c_table(const uint8_t* p, size_t n, uint32_t c) {
  static const std::array<uint32_t, 256> table = make_table();
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c;
}

// Register after n zero bytes, for a fixed n, as four byte tables (zlib's crc32_combine, by table):
// lets three independent CRC streams run at once and be joined.
struct ZeroShift {
  uint32_t table[4][256];
  static uint32_t times(const uint32_t* mat, uint32_t vec) {
    uint32_t sum = 0;
    for (; vec; vec >>= 1, ++mat)
      if (vec & 1) sum ^= *mat;
    return sum;
  }
  static void square(uint32_t* out, const uint32_t* mat) {
    for (int n = 0; n < 32; ++n) out[n] = times(mat, mat[n]);
  }
  explicit ZeroShift(size_t bytes) {  // bytes: a power of two
    uint32_t odd[32], even[32];
    odd[0] = kPoly;  // one zero bit
    for (int n = 1; n < 32; ++n) odd[n] = 1u << (n - 1);
    square(even, odd);  // 2 bits
    square(odd, even);  // 4 bits
    const uint32_t* op = nullptr;
    for (;;) {
      square(even, odd);
      bytes >>= 1;
      if (!bytes) { op = even; break; }
      square(odd, even);
      bytes >>= 1;
      if (!bytes) { op = odd; break; }
    }
    for (uint32_t n = 0; n < 256; ++n)
      for (int b = 0; b < 4; ++b) table[b][n] = times(op, n << (8 * b));
  }
  uint32_t operator()(uint32_t c) const {
    return table[0][c & 0xFF] ^ table[1][(c >> 8) & 0xFF] ^ table[2][(c >> 16) & 0xFF] ^ table[3][c >> 24];
  }
};

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles and a throughput of 1: three streams over
// adjacent blocks keep it busy (3x one stream), then the blocks' CRCs are joined.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const uint8_t* p, size_t n, uint32_t c) {
  constexpr size_t kBlock = 8192;
  static const ZeroShift shift(kBlock);
  uint64_t c0 = c;
  for (; n >= 3 * kBlock; p += 3 * kBlock, n -= 3 * kBlock) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kBlock + i, 8);
      std::memcpy(&w2, p + 2 * kBlock + i, 8);
      c0 = _mm_crc32_u64(c0, w0);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
    }
    c0 = shift(shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1)) ^ static_cast<uint32_t>(c2);
  }
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c0 = _mm_crc32_u64(c0, word);
  }
  c = static_cast<uint32_t>(c0);
  for (; n; ++p, --n) c = _mm_crc32_u8(c, *p);
  return c;
}
#endif

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const uint32_t c = ~crc;
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~crc32c_sse42(p, n, c);
#endif
  return ~crc32c_table(p, n, c);
}

}  // namespace udt
