// Featurizer pieces with no direct Python surface: calendar arithmetic and ISO weeks,
// number parsing, tokenizers, the CSV quote scanner fed in arbitrary pieces, the
// parallel row split, and RowBuilder's duplicate merging in small and large spaces.
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "csv_quote_scanner.h"
#include "parallel.h"
#include "parse.h"
#include "sparse_rows.h"
#include "tokenize.h"

using namespace udt;

static Cell text_cell(const std::string& s) {
  Cell c;
  c.kind = CellKind::Str;
  c.str = s;
  return c;
}

static void test_dates() {
  CivilTime t;
  // ISO weeks around year ends: 2021-01-03 is in week 53 of 2020, 2024-12-30 in week 1 of 2025.
  CHECK(parse_date(text_cell("2021-01-03"), &t) == ParseStatus::Ok && t.iso_week == 53 && t.weekday == 6);
  CHECK(parse_date(text_cell("2024-12-30"), &t) == ParseStatus::Ok && t.iso_week == 1 && t.weekday == 0);
  CHECK(parse_date(text_cell("2024-02-29T23:59:59Z"), &t) == ParseStatus::Ok && t.has_time && t.hour == 23);
  CHECK(t.epoch_seconds == 1709251199);
  CHECK(parse_date(text_cell("2024-03-01T00:30:00+01:00"), &t) == ParseStatus::Ok && t.epoch_seconds == 1709249400);
  CHECK(parse_date(text_cell("1900-02-29"), &t) == ParseStatus::Invalid);  // not a leap year
  CHECK(parse_date(text_cell("2000-02-29"), &t) == ParseStatus::Ok);       // a leap year
  CHECK(parse_date(text_cell("20240101"), &t) == ParseStatus::Invalid);    // ambiguous 8 digits
  CHECK(parse_date(text_cell("0"), &t) == ParseStatus::Ok && t.year == 1970 && t.weekday == 3);
  CHECK(parse_date(text_cell("  "), &t) == ParseStatus::Missing);
  for (int64_t day = -800000; day <= 800000; day += 997) {  // civil <-> days round trip
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    CHECK(days_from_civil(y, m, d) == day);
  }
}

static void test_numbers() {
  double x = 0;
  CHECK(parse_number(text_cell(" -1.5e3 "), &x) == ParseStatus::Ok && x == -1500);
  CHECK(parse_number(text_cell("+7"), &x) == ParseStatus::Ok && x == 7);
  CHECK(parse_number(text_cell("N/A"), &x) == ParseStatus::Missing);
  CHECK(parse_number(text_cell("12abc"), &x) == ParseStatus::Invalid);
  CHECK(parse_number(text_cell("inf"), &x) == ParseStatus::Invalid);
  CHECK(parse_number(text_cell("1,000"), &x) == ParseStatus::Invalid);
}

static void test_tokenizers() {
  std::string scratch;
  std::vector<uint64_t> tokens;
  TextOptions words;
  tokenize_hashes("Hello, World! hello", words, scratch, tokens);
  CHECK(tokens.size() == 3 && tokens[0] == tokens[2]);
  TextOptions punct;
  punct.tokenizer = TokenizerKind::WordsPunct;
  tokens.clear();
  tokenize_hashes("a,b!", punct, scratch, tokens);
  CHECK(tokens.size() == 4);
  TextOptions chars;
  chars.tokenizer = TokenizerKind::CharK;
  chars.char_k = 2;
  tokens.clear();
  tokenize_hashes("\xC3\xA9t\xC3\xA9", chars, scratch, tokens);  // "été": 3 code points -> 2 bigrams
  CHECK(tokens.size() == 2);
  std::vector<uint64_t> grams;
  ngram_hashes({1, 2, 3}, 3, grams);
  CHECK(grams.size() == 3 + 2 + 1);
}

static void test_quote_scanner_any_split() {
  const std::string csv = "a,b\n1,\"x \"\"y\"\"\nz\"\n2,5'11\" tall\n3,\"open\n";
  CsvQuoteScanner whole(',');
  whole.feed(csv.data(), csv.size());
  CHECK(whole.in_quotes() && whole.open_quote_line() == 5 && whole.lines_seen() == 6);
  for (size_t piece = 1; piece < 8; ++piece) {
    CsvQuoteScanner split(',');
    for (size_t i = 0; i < csv.size(); i += piece) split.feed(csv.data() + i, std::min(piece, csv.size() - i));
    CHECK(split.in_quotes() == whole.in_quotes() && split.open_quote_line() == whole.open_quote_line());
    CHECK(split.lines_seen() == whole.lines_seen());
  }
  CsvQuoteScanner closed(',');
  const std::string ok = "a\n\"x\r\ny\"\r\n";
  closed.feed(ok.data(), ok.size());
  CHECK(!closed.in_quotes());
}

static void test_parallel_chunks() {
  for (int threads : {1, 2, 3, 8}) {
    std::vector<std::atomic<int>> hits(1000);
    parallel_chunks(1000, threads, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
    });
    for (auto& h : hits) CHECK(h.load() == 1);
    std::string caught;
    try {
      parallel_chunks(100, threads, [&](int64_t b, int64_t e, int) {
        if (b <= 10 && 10 < e) throw std::runtime_error("early");
        if (b <= 90 && 90 < e) throw std::runtime_error("late");
      });
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    CHECK(caught == "early");  // the earliest chunk's error wins, whichever thread failed first
  }
}

static void test_row_builder_paths_agree() {
  for (uint32_t dim : {1000u, 5000000u}) {
    RowBuilder row;
    row.dim = dim;
    SparseRows out;
    for (int rep = 0; rep < 3; ++rep)
      for (uint64_t h = 0; h < 50; ++h) row.emit(h * 0x9e3779b97f4a7c15ULL, 0.5f);
    row.flush(out);
    CHECK(out.n_rows() == 1);
    float total = 0;
    for (size_t i = 0; i < out.indices.size(); ++i) {
      total += out.values[i];
      for (size_t j = 0; j < i; ++j) CHECK(out.indices[i] != out.indices[j]);
    }
    CHECK(total == 75.0f);
  }
}

int main() {
  test_dates();
  test_numbers();
  test_tokenizers();
  test_quote_scanner_any_split();
  test_parallel_chunks();
  test_row_builder_paths_agree();
  return udt_test::finish("test_featurizer_kernels");
}
