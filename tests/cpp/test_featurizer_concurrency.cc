// Featurizing for predict while a training pass records temporal history (issue 16): the
// per-key history map grows (and rehashes) under the readers unless the TableFeaturizer's
// state lock orders them. Run under TSan and ASan by tests/sanitize.sh.
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "check.h"
#include "table_featurizer.h"

using namespace udt;

namespace {
ColumnView int64_column(const std::vector<int64_t>& v) {
  ColumnView c;
  c.layout = ArrowLayout::Int64;
  c.length = int64_t(v.size());
  c.values = v.data();
  return c;
}
}  // namespace

int main() {
  std::vector<ColumnConfig> columns(3);
  columns[0].name = "user";
  columns[1].name = "item";
  columns[2].name = "ts";
  columns[2].kind = ColumnKind::Numeric;  // Unix seconds
  TableFeaturizer fz(columns, 1 << 16, 7);
  TemporalConfig t;
  t.key_column = 0;
  t.tracked = {1};
  t.timestamp_column = 2;
  t.length = 5;
  fz.set_temporal(t);

  const int64_t n = 4000;
  std::vector<int64_t> users(n), items(n), ts(n);
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad{0};
  std::vector<int64_t> q_users(200), q_items(200, 0), q_ts(200, int64_t(1) << 40);
  for (int64_t i = 0; i < 200; ++i) q_users[size_t(i)] = i * 37;
  const std::vector<ColumnView> queries = {int64_column(q_users), int64_column(q_items), int64_column(q_ts)};
  std::thread reader([&] {
    while (!stop.load()) {
      SparseRows rows = fz.featurize(queries, 200, 2, false);
      if (rows.n_rows() != 200) ++bad;
      ++reads;
    }
  });
  for (int pass = 0; pass < 6; ++pass) {
    for (int64_t i = 0; i < n; ++i) {  // fresh keys every pass: the map keeps growing
      users[size_t(i)] = pass * n + i;
      items[size_t(i)] = i % 97;
      ts[size_t(i)] = 1000 + i;
    }
    const std::vector<ColumnView> cols = {int64_column(users), int64_column(items), int64_column(ts)};
    fz.featurize(cols, n, 2, true);
  }
  while (reads.load() < 2) std::this_thread::yield();
  stop = true;
  reader.join();
  CHECK(bad.load() == 0);
  CHECK(fz.history().n_keys() == size_t(6 * n));
  return udt_test::finish("test_featurizer_concurrency");
}
