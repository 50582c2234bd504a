// Inference while the network trains (issue 16): two threads predict (sparse and dense) while
// the main thread trains, runs the index pass (which reallocates the LSH tables) and lets the
// next batch restore the training shape. Run under TSan and ASan by tests/sanitize.sh; every
// prediction must be a valid id with a finite score.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "check.h"
#include "network.h"
#include "random.h"

using namespace udt;

int main() {
  NetworkConfig c;
  c.input_dim = 2000;
  c.hidden_dim = 32;
  c.output_dim = 1500;
  c.output_sparsity = 0.05;
  c.n_threads = 2;
  c.seed = 3;
  c.schedule.rebuild_interval = 1;  // rebuild and redraw hashes as often as possible
  c.schedule.rehash_every = 1;
  Network net(c);

  const size_t n = 512;
  Rng rng(7);
  std::vector<int64_t> offsets{0}, label_offsets{0};
  std::vector<uint32_t> indices, labels;
  for (size_t s = 0; s < n; ++s) {
    for (int j = 0; j < 6; ++j) indices.push_back(rng.below(c.input_dim));
    offsets.push_back(int64_t(indices.size()));
    labels.push_back(rng.below(c.output_dim));
    label_offsets.push_back(int64_t(labels.size()));
  }
  CsrView x{offsets.data(), indices.data(), nullptr, n};
  CsrView y{label_offsets.data(), labels.data(), nullptr, n};
  CsrView q{offsets.data(), indices.data(), nullptr, 32};

  std::atomic<bool> stop{false};
  std::atomic<int> predictions{0}, bad{0};
  auto reader = [&](bool sparse) {
    std::vector<int32_t> ids(q.n_rows * 5);
    std::vector<float> scores(q.n_rows * 5), hidden(q.n_rows * c.hidden_dim);
    while (!stop.load()) {
      net.predict_topk(q, 5, sparse, 0.05, ids.data(), scores.data());
      net.embed(q, hidden.data());
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || uint32_t(ids[i]) >= c.output_dim || !std::isfinite(scores[i])) ++bad;
      (void)net.lsh_info();
      (void)net.batches_trained();
      ++predictions;
    }
  };
  std::thread sparse_reader(reader, true), dense_reader(reader, false);
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (size_t b = 0; b < n; b += 128) {  // batches of 128 rows, offsets rebased to 0
      std::vector<int64_t> xo(offsets.begin() + b, offsets.begin() + b + 129);
      std::vector<int64_t> yo(label_offsets.begin() + b, label_offsets.begin() + b + 129);
      for (auto& o : xo) o -= offsets[b];
      for (auto& o : yo) o -= label_offsets[b];
      CsrView xb{xo.data(), indices.data() + offsets[b], nullptr, 128};
      CsrView yb{yo.data(), labels.data() + label_offsets[b], nullptr, 128};
      net.train_batch(xb, yb);
    }
    net.index_labels(x, y, 4 * net.lsh_info().training.num_tables);
    net.end_epoch();
  }
  while (predictions.load() < 4) std::this_thread::yield();  // the readers overlapped some training
  stop = true;
  sparse_reader.join();
  dense_reader.join();
  CHECK(bad.load() == 0);
  CHECK(net.batches_trained() == 12);
  return udt_test::finish("test_network_concurrency");
}
