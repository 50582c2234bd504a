// Text tokenizers. Tokens are produced as 64-bit hashes (never as strings) so no
// allocation happens per token. Lowercasing is ASCII-only: non-ASCII letters are kept as
// they are (UTF-8 bytes >= 0x80 are word characters), which keeps the kernel table-driven.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cell.h"

namespace udt {

enum class TokenizerKind : int { Words = 0, WordsPunct = 1, CharK = 2 };

struct TextOptions {
  TokenizerKind tokenizer = TokenizerKind::Words;
  int char_k = 3;       // k for char-k
  bool lowercase = true;
};

// Appends the hashes of the tokens of `text`, in order, to `out`. `scratch` is reused
// between calls to hold the lowercased text.
void tokenize_hashes(std::string_view text, const TextOptions& options, std::string& scratch,
                     std::vector<uint64_t>& out);

// Appends the hashes of all n-grams for n = 1..max_n of `tokens` to `out`.
void ngram_hashes(const std::vector<uint64_t>& tokens, int max_n, std::vector<uint64_t>& out);

// Whitespace-separated words (runs of bytes other than ASCII space, \t, \n, \v, \f, \r) in a
// string column's first n rows; missing values count 0. The statistics pass's words per row.
uint64_t count_words(const ColumnView& column, int64_t n);

}  // namespace udt
