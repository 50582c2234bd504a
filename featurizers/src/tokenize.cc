#include "tokenize.h"

#include <array>

#include "hash.h"

namespace udt {
namespace {

constexpr uint64_t kTokenSeed = 0x7f4a7c159e3779b9ULL;

struct CharClasses {
  std::array<uint8_t, 256> word{};   // letters, digits and UTF-8 bytes
  std::array<uint8_t, 256> punct{};  // printable ASCII that is neither word nor space
  std::array<char, 256> lower{};
  CharClasses() {
    for (int c = 0; c < 256; ++c) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      word[c] = alnum || c >= 0x80;
      punct[c] = !word[c] && c > ' ' && c < 0x7f;
      lower[c] = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
  }
};
const CharClasses kClasses;

void split_words(std::string_view s, bool keep_punct, std::vector<uint64_t>& out) {
  const size_t n = s.size();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < n) {
    if (kClasses.word[p[i]]) {
      const size_t start = i;
      while (i < n && kClasses.word[p[i]]) ++i;
      out.push_back(hash_bytes(p + start, i - start, kTokenSeed));
    } else {
      if (keep_punct && kClasses.punct[p[i]]) out.push_back(hash_bytes(p + i, 1, kTokenSeed));
      ++i;
    }
  }
}

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// k-grams of Unicode code points over the text with runs of whitespace folded into one space.
void split_char_k(std::string_view s, int k, std::string& norm, std::vector<uint64_t>& out) {
  norm.clear();
  bool last_space = true;  // also drops leading whitespace
  for (unsigned char c : s) {
    if (is_space(c)) {
      if (!last_space) norm.push_back(' ');
      last_space = true;
    } else {
      norm.push_back(char(c));
      last_space = false;
    }
  }
  if (!norm.empty() && norm.back() == ' ') norm.pop_back();
  if (norm.empty()) return;
  // Code point starts: bytes that are not UTF-8 continuation bytes (10xxxxxx).
  std::vector<uint32_t> starts;
  starts.reserve(norm.size() + 1);
  for (size_t i = 0; i < norm.size(); ++i)
    if ((static_cast<unsigned char>(norm[i]) & 0xC0) != 0x80) starts.push_back(uint32_t(i));
  starts.push_back(uint32_t(norm.size()));
  const size_t n_cp = starts.size() - 1;
  if (n_cp <= size_t(k)) {
    out.push_back(hash_bytes(norm.data(), norm.size(), kTokenSeed));
    return;
  }
  for (size_t i = 0; i + k <= n_cp; ++i)
    out.push_back(hash_bytes(norm.data() + starts[i], starts[i + k] - starts[i], kTokenSeed));
}

}  // namespace

void tokenize_hashes(std::string_view text, const TextOptions& options, std::string& scratch,
                     std::vector<uint64_t>& out) {
  std::string_view s = text;
  if (options.lowercase) {
    scratch.resize(text.size());
    for (size_t i = 0; i < text.size(); ++i) scratch[i] = kClasses.lower[static_cast<unsigned char>(text[i])];
    s = scratch;
  }
  if (options.tokenizer == TokenizerKind::CharK) {
    std::string norm;
    split_char_k(s, options.char_k, norm, out);
  } else {
    split_words(s, options.tokenizer == TokenizerKind::WordsPunct, out);
  }
}

void ngram_hashes(const std::vector<uint64_t>& tokens, int max_n, std::vector<uint64_t>& out) {
  const size_t m = tokens.size();
  for (size_t i = 0; i < m; ++i) {
    uint64_t h = tokens[i];
    out.push_back(h);
    for (int n = 2; n <= max_n && i + n <= m; ++n) {
      h = hash_combine(h, tokens[i + n - 1]);
      out.push_back(hash_combine(h, uint64_t(n)));  // n in the hash keeps orders apart
    }
  }
}

uint64_t count_words(const ColumnView& column, int64_t n) {
  uint64_t words = 0;
  for (int64_t r = 0; r < n; ++r) {
    const Cell c = column.cell(r);
    if (c.kind != CellKind::Str) continue;
    bool in_word = false;
    for (const char ch : c.str) {
      const bool space = ch == ' ' || (ch >= '\t' && ch <= '\r');
      words += !space && !in_word;
      in_word = !space;
    }
  }
  return words;
}

}  // namespace udt
