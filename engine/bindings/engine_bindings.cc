// Python bindings of the SLIDE engine: a thin layer. Arguments arrive as numpy arrays
// of exact dtypes (the Python wrapper udt.engine converts and checks them); heavy calls
// release the GIL; weights are exposed as numpy views into the engine's own memory.
#include "engine_bindings.h"

#include <cmath>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "lsh_autotune.h"
#include "lsh_retrieval.h"
#include "network.h"
#include "simd_kernels.h"

namespace py = pybind11;

namespace udt {
namespace {

template <typename T>
using CArray = py::array_t<T, py::array::c_style>;

CsrView make_csr(const CArray<int64_t>& offsets, const CArray<uint32_t>& indices, const py::object& values,
                 const std::string& what, std::vector<py::object>& keep_alive) {
  if (offsets.ndim() != 1 || offsets.shape(0) < 1)
    throw std::invalid_argument(what + ": offsets must be a 1-d array of n_rows + 1 entries");
  CsrView csr;
  csr.offsets = offsets.data();
  csr.n_rows = static_cast<size_t>(offsets.shape(0) - 1);
  csr.indices = indices.data();
  if (csr.offsets[csr.n_rows] != indices.shape(0))
    throw std::invalid_argument(what + ": offsets[-1] = " + std::to_string(csr.offsets[csr.n_rows]) +
                                " but there are " + std::to_string(indices.shape(0)) + " indices");
  if (!values.is_none()) {
    auto v = values.cast<CArray<float>>();
    if (v.ndim() != 1 || v.shape(0) != indices.shape(0))
      throw std::invalid_argument(what + ": values must have one entry per index (" +
                                  std::to_string(indices.shape(0)) + "), got " + std::to_string(v.size()));
    csr.values = v.data();
    keep_alive.push_back(v);
  }
  return csr;
}

// An (n_rows, width) float array filled by `fill(x, out)` with the GIL released: the shape of the
// network's dense per-row outputs (all scores, hidden activations).
template <class Fill>
CArray<float> per_row_matrix(const CArray<uint32_t>& indices, const py::object& values, const CArray<int64_t>& offsets,
                             uint32_t width, Fill fill) {
  std::vector<py::object> keep;
  CsrView x = make_csr(offsets, indices, values, "inputs", keep);
  CArray<float> out({x.n_rows, size_t(width)});
  float* out_ptr = out.mutable_data();
  {
    py::gil_scoped_release release;
    fill(x, out_ptr);
  }
  return out;
}

}  // namespace

void bind_engine(py::module_& root) {
  py::module_ m = root.def_submodule("engine", "The SLIDE engine: LSH-sparse networks trained with sparse Adam");

  bind_engine_config(m);

  py::class_<Network> network(m, "Network");
  network
      .def(py::init<const NetworkConfig&>(), py::arg("config"), py::call_guard<py::gil_scoped_release>())
      .def(
          "train_batch",
          [](Network& net, const CArray<uint32_t>& indices, const py::object& values, const CArray<int64_t>& offsets,
             const CArray<uint32_t>& label_indices, const py::object& label_values,
             const CArray<int64_t>& label_offsets, const py::object& row_weights) {
            std::vector<py::object> keep;
            CsrView x = make_csr(offsets, indices, values, "inputs", keep);
            CsrView y = make_csr(label_offsets, label_indices, label_values, "labels", keep);
            const float* weights = nullptr;
            if (!row_weights.is_none()) {
              CArray<float> w = row_weights.cast<CArray<float>>();
              if (w.ndim() != 1 || size_t(w.size()) != x.n_rows)
                throw std::invalid_argument("row_weights must hold one float per row (" + std::to_string(x.n_rows) +
                                            "), got " + std::to_string(w.size()));
              for (py::ssize_t i = 0; i < w.size(); ++i)
                if (!(w.data()[i] >= 0.0f) || !std::isfinite(w.data()[i]))
                  throw std::invalid_argument("row_weights must be finite and >= 0; row " + std::to_string(i) +
                                              " has " + std::to_string(w.data()[i]));
              weights = w.data();
              keep.push_back(w);
            }
            py::gil_scoped_release release;
            return net.train_batch(x, y, weights);
          },
          py::arg("indices"), py::arg("values"), py::arg("offsets"), py::arg("label_indices"),
          py::arg("label_values"), py::arg("label_offsets"), py::arg("row_weights") = py::none())
      .def(
          "predict_topk",
          [](Network& net, const CArray<uint32_t>& indices, const py::object& values, const CArray<int64_t>& offsets,
             uint32_t k, bool sparse, double sparsity) {
            std::vector<py::object> keep;
            CsrView x = make_csr(offsets, indices, values, "inputs", keep);
            CArray<int32_t> ids({x.n_rows, size_t(k)});
            CArray<float> scores({x.n_rows, size_t(k)});
            int32_t* ids_ptr = ids.mutable_data();
            float* scores_ptr = scores.mutable_data();
            {
              py::gil_scoped_release release;
              net.predict_topk(x, k, sparse, sparsity, ids_ptr, scores_ptr);
            }
            return py::make_tuple(ids, scores);
          },
          py::arg("indices"), py::arg("values"), py::arg("offsets"), py::arg("k"), py::arg("sparse"),
          py::arg("sparsity"))
      .def(
          "predict_all",
          [](Network& net, const CArray<uint32_t>& indices, const py::object& values, const CArray<int64_t>& offsets) {
            return per_row_matrix(indices, values, offsets, net.config().output_dim,
                                  [&](const CsrView& x, float* out) { net.predict_all(x, out); });
          },
          py::arg("indices"), py::arg("values"), py::arg("offsets"))
      .def(
          "embed",
          [](Network& net, const CArray<uint32_t>& indices, const py::object& values, const CArray<int64_t>& offsets) {
            return per_row_matrix(indices, values, offsets, net.config().hidden_dim,
                                  [&](const CsrView& x, float* out) { net.embed(x, out); });
          },
          py::arg("indices"), py::arg("values"), py::arg("offsets"))
      .def(
          "index_labels",
          [](Network& net, const CArray<uint32_t>& indices, const py::object& values, const CArray<int64_t>& offsets,
             const CArray<uint32_t>& label_indices, const CArray<int64_t>& label_offsets, uint32_t num_tables) {
            std::vector<py::object> keep;
            CsrView x = make_csr(offsets, indices, values, "inputs", keep);
            CsrView y = make_csr(label_offsets, label_indices, py::none(), "labels", keep);
            py::gil_scoped_release release;
            net.index_labels(x, y, num_tables);
          },
          py::arg("indices"), py::arg("values"), py::arg("offsets"), py::arg("label_indices"),
          py::arg("label_offsets"), py::arg("num_tables") = 0)
      .def("set_lsh_shape", &Network::set_lsh_shape, py::arg("num_tables"), py::arg("capacity"),
           py::call_guard<py::gil_scoped_release>())
      .def("end_epoch", &Network::end_epoch, py::call_guard<py::gil_scoped_release>())
      .def("rebuild_index", &Network::rebuild_index, py::call_guard<py::gil_scoped_release>())
      .def(
          "restore_lsh",
          [](Network& net, uint32_t num_tables, uint32_t capacity,
             const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& buckets) {
            if (buckets.ndim() != 1) throw std::invalid_argument("lsh.buckets must be 1-d");
            const uint32_t* words = buckets.data();
            const size_t n = size_t(buckets.size());
            py::gil_scoped_release release;
            net.restore_lsh(num_tables, capacity, words, n);
          },
          py::arg("num_tables"), py::arg("capacity"), py::arg("buckets"),
          "Restores a saved LSH index (L, R, the lsh.buckets array), checked before anything is allocated.")
      .def("validate_state", &Network::validate_state, py::call_guard<py::gil_scoped_release>(),
           "Raises ValueError when restored state (an LSH bucket id >= output_dim) would make inference read "
           "out of bounds; call after writing state views.")
      .def_property_readonly("config", &Network::config)
      .def_property_readonly("uses_lsh", &Network::uses_lsh)
      .def_property_readonly("phase_seconds",
                             [](const Network& net) {
                               PhaseTimes times;
                               {
                                 py::gil_scoped_release release;  // a training batch may hold the lock
                                 times = net.phase_times();
                               }
                               py::dict d;
                               for (size_t i = 0; i < times.seconds.size(); ++i)
                                 d[PhaseTimes::kNames[i]] = times.seconds[i];
                               return d;
                             })
      .def_property_readonly("active_neurons", &Network::active_neurons)
      .def_property_readonly("n_threads", &Network::n_threads)
      .def_property("batches_trained",
                    [](const Network& net) {
                      py::gil_scoped_release release;
                      return net.batches_trained();
                    },
                    [](Network& net, uint64_t v) {
                      py::gil_scoped_release release;
                      net.set_batches_trained(v);
                    })
      .def_property_readonly("lsh_params",
                             [](const Network& net) -> py::object {
                               if (!net.uses_lsh()) return py::none();
                               LshInfo s;
                               {
                                 py::gil_scoped_release release;
                                 s = net.lsh_info();
                               }
                               py::dict d;
                               d["K"] = s.current.bits;
                               d["L"] = s.current.num_tables;
                               d["R"] = s.current.capacity;
                               d["training_L"] = s.training.num_tables;
                               d["training_R"] = s.training.capacity;
                               d["within_budget"] = s.current.within_budget;
                               d["hash_family"] = hash_kind_name(s.kind);
                               d["bucket_policy"] = bucket_policy_name(s.policy);
                               d["rebuilds"] = s.rebuilds;
                               d["index_bytes"] = s.index_bytes;
                               return d;
                             })
      .def_property("lsh_schedule_state",
                    [](const Network& net) {
                      py::gil_scoped_release release;
                      return net.lsh_schedule_state();
                    },
                    [](Network& net, const std::vector<uint64_t>& s) {
                      py::gil_scoped_release release;
                      net.set_lsh_schedule_state(s);
                    });
  bind_engine_state(m, network);

  m.def("autotune_lsh",
        [](double sparsity, uint64_t dim, double c1, double c2, uint32_t max_tables) {
          LshParams p = autotune_lsh(sparsity, dim, c1, c2, max_tables);
          return py::dict(py::arg("K") = p.bits, py::arg("L") = p.num_tables, py::arg("R") = p.capacity,
                          py::arg("within_budget") = p.within_budget);
        },
        py::arg("sparsity"), py::arg("dim"), py::arg("c1") = 1.0, py::arg("c2") = 0.1, py::arg("max_tables") = 256,
        "The paper's K/L/R rule (section 4.2) for a layer of `dim` neurons at `sparsity`.");
  m.def(
      "lsh_retrieve",
      [](const CArray<float>& neurons, const CArray<float>& queries, uint32_t k, uint32_t lsh_k, uint32_t lsh_l,
         uint32_t lsh_r, const std::string& hash_family, const std::string& bucket_policy, uint64_t seed,
         uint32_t n_threads) {
        if (neurons.ndim() != 2 || queries.ndim() != 2 || neurons.shape(1) != queries.shape(1))
          throw std::invalid_argument("neurons (d, h) and queries (n, h) must be 2-d with the same width");
        AlignedMatrix m(neurons.shape(0), neurons.shape(1));
        for (py::ssize_t r = 0; r < neurons.shape(0); ++r)
          std::copy(neurons.data(r, 0), neurons.data(r, 0) + neurons.shape(1), m.row(r));
        LshParams p{lsh_k, lsh_l, lsh_r ? lsh_r : default_bucket_capacity(m.rows(), lsh_k), true};
        HashKind kind = parse_hash_kind(hash_family);
        BucketPolicy policy = parse_bucket_policy(bucket_policy);
        const float* q = queries.data();
        size_t n_queries = queries.shape(0), stride = queries.shape(1);
        std::vector<uint32_t> ids;
        {
          py::gil_scoped_release release;
          ThreadPool pool(n_threads);
          ids = lsh_retrieve(m, q, n_queries, stride, kind, p, policy, k, seed, pool);
        }
        CArray<uint32_t> out({n_queries, size_t(k)});
        std::copy(ids.begin(), ids.end(), out.mutable_data());
        return out;
      },
      py::arg("neurons"), py::arg("queries"), py::arg("k"), py::arg("lsh_k"), py::arg("lsh_l"), py::arg("lsh_r") = 0,
      py::arg("hash_family") = "dwta", py::arg("bucket_policy") = "reservoir", py::arg("seed") = 0,
      py::arg("n_threads") = 0,
      "Indexes the rows of `neurons` with LSH and returns the k rows each query retrieves (ascending ids).");
  m.def("auto_output_sparsity", &auto_output_sparsity, py::arg("output_dim"));
  m.def("simd_isa", &simd::isa, "The instruction set the hot kernels were dispatched to on this CPU.");
}

}  // namespace udt
