// Thin pybind11 layer over the featurizer core: Arrow buffer addresses in, numpy CSR out.
// Heavy calls release the GIL; the single-row path reads a Python dict directly.
#include "featurizer_bindings.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <shared_mutex>
#include <stdexcept>

#include "../src/batch_rows.h"
#include "../src/column_features.h"
#include "../src/csv_quote_scanner.h"
#include "../src/feature_error.h"
#include "../src/id_map.h"
#include "../src/label_vocab.h"
#include "../src/offsets_check.h"
#include "../src/row_scaling.h"
#include "../src/table_featurizer.h"
#include "../src/tokenize.h"

namespace py = pybind11;

namespace udt {
namespace {

// (layout, length, offset, validity address, offsets address, values address) from Python.
using ViewTuple = std::tuple<int, int64_t, int64_t, uintptr_t, uintptr_t, uintptr_t>;

ColumnView to_view(const ViewTuple& t) {
  ColumnView v;
  v.layout = ArrowLayout(std::get<0>(t));
  v.length = std::get<1>(t);
  v.offset = std::get<2>(t);
  v.validity = reinterpret_cast<const uint8_t*>(std::get<3>(t));
  v.offsets = reinterpret_cast<const void*>(std::get<4>(t));
  v.values = reinterpret_cast<const void*>(std::get<5>(t));
  return v;
}

std::vector<ColumnView> to_views(const std::vector<ViewTuple>& ts) {
  std::vector<ColumnView> out;
  for (const auto& t : ts) out.push_back(to_view(t));
  return out;
}

template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(py::ssize_t(owned->size()), owned->data(), owner);
}

template <class T>
py::array_t<T> copy_numpy(const std::vector<T>& v, size_t begin, size_t end) {
  py::array_t<T> a(py::ssize_t(end - begin));
  if (end > begin) std::memcpy(a.mutable_data(), v.data() + begin, (end - begin) * sizeof(T));
  return a;
}

template <class T>
std::vector<T> to_vector(const py::array_t<T, py::array::c_style | py::array::forcecast>& a) {
  return std::vector<T>(a.data(), a.data() + a.size());
}

py::tuple csr_to_python(SparseRows&& rows) {
  return py::make_tuple(to_numpy(std::move(rows.indices)), to_numpy(std::move(rows.values)),
                        to_numpy(std::move(rows.offsets)));
}

// The C++ featurizer plus what the dict fast path needs: interned column names.
struct BoundFeaturizer {
  TableFeaturizer core;
  std::vector<py::str> keys;
  std::vector<std::string> extra_keys;  // accepted in a row dict but not featurized (the target)

  // The core's state lock, waited for with the GIL released (a training pass may hold it).
  std::shared_lock<std::shared_mutex> read_state() {
    py::gil_scoped_release release;
    return core.read_state();
  }
  std::unique_lock<std::shared_mutex> write_state() {
    py::gil_scoped_release release;
    return core.write_state();
  }

  BoundFeaturizer(std::vector<ColumnConfig> columns, uint32_t dim, uint64_t seed, std::vector<std::string> extra)
      : core(std::move(columns), dim, seed), extra_keys(std::move(extra)) {
    for (const auto& c : core.columns()) keys.emplace_back(c.name);
  }

  // Buffers of the dict path, per thread: Python code run by a conversion (py::str) or the wait
  // for the state lock lets another thread in, and it must not overwrite this call's cells.
  struct DictScratch {
    std::vector<Cell> cells;
    std::vector<std::string> text;  // text of cells converted from other Python types
    RowBuilder row;
    SparseRows out;
  };

  static Cell to_cell(PyObject* v, std::string& text) {
    Cell cell;
    if (v == nullptr || v == Py_None) return cell;
    if (PyUnicode_Check(v)) {
      Py_ssize_t n = 0;
      const char* s = PyUnicode_AsUTF8AndSize(v, &n);
      if (!s) throw py::error_already_set();
      cell.kind = CellKind::Str;
      cell.str = std::string_view(s, size_t(n));
    } else if (PyBool_Check(v)) {
      cell.kind = CellKind::Str;
      cell.str = v == Py_True ? "true" : "false";
    } else if (PyLong_Check(v)) {
      int overflow = 0;
      const long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
      if (overflow) {
        text = py::str(v).cast<std::string>();
        cell.kind = CellKind::Str;
        cell.str = text;
      } else {
        cell.kind = CellKind::Int;
        cell.i = x;
      }
    } else if (PyFloat_Check(v)) {
      cell.f = PyFloat_AS_DOUBLE(v);
      cell.kind = std::isnan(cell.f) ? CellKind::Null : CellKind::Float;
    } else if (PyIndex_Check(v)) {  // numpy integers
      cell.kind = CellKind::Int;
      cell.i = py::int_(py::reinterpret_borrow<py::object>(v)).cast<int64_t>();
    } else if (PyNumber_Check(v) && !PyObject_HasAttrString(v, "encode")) {  // numpy floats, Decimal
      cell.f = py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>();
      cell.kind = std::isnan(cell.f) ? CellKind::Null : CellKind::Float;
    } else {  // dates, bytes, anything else: their text
      text = py::str(v).cast<std::string>();
      cell.kind = CellKind::Str;
      cell.str = text;
    }
    return cell;
  }

  py::tuple featurize_dict(py::dict d, bool update_history) {
    thread_local DictScratch buffers;
    DictScratch& b = buffers;
    b.cells.resize(keys.size());
    b.text.resize(keys.size());
    size_t found = 0;
    for (size_t c = 0; c < keys.size(); ++c) {
      PyObject* v = PyDict_GetItemWithError(d.ptr(), keys[c].ptr());
      if (!v && PyErr_Occurred()) throw py::error_already_set();
      found += v != nullptr;
      b.cells[c] = to_cell(v, b.text[c]);
    }
    if (Py_ssize_t(found) < PyDict_Size(d.ptr())) check_unknown_keys(d);
    b.out.indices.clear();
    b.out.values.clear();
    b.out.offsets.assign(1, 0);
    {
      std::shared_lock<std::shared_mutex> read;
      std::unique_lock<std::shared_mutex> write;
      if (update_history) write = write_state();
      else read = read_state();
      core.featurize_cells(b.cells.data(), update_history, b.row, b.out);
    }
    return py::make_tuple(copy_numpy(b.out.indices, 0, b.out.indices.size()),
                          copy_numpy(b.out.values, 0, b.out.values.size()));
  }

  void check_unknown_keys(py::dict d) {
    for (auto item : d) {
      const std::string k = py::str(item.first).cast<std::string>();
      bool known = std::find(extra_keys.begin(), extra_keys.end(), k) != extra_keys.end();
      for (const auto& c : core.columns()) known = known || c.name == k;
      if (!known) {
        std::string valid;
        for (const auto& c : core.columns()) valid += (valid.empty() ? "'" : ", '") + c.name + "'";
        throw FeatureError(0, k, "unknown column '" + k + "'; declared columns: " + valid);
      }
    }
  }
};

}  // namespace

void bind_featurizers(pybind11::module_& m) {
  auto f = m.def_submodule("featurizers", "Column featurizers: Arrow columns -> hashed sparse features");

  static py::exception<FeatureError> feature_error(f, "FeatureError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FeatureError& e) {
      // args = (message, row within the batch, column): Python adds file and absolute row.
      PyErr_SetObject(feature_error.ptr(), py::make_tuple(e.what(), e.row, e.column).ptr());
    }
  });

  py::class_<ColumnConfig>(f, "ColumnConfig")
      .def(py::init<>())
      .def_readwrite("name", &ColumnConfig::name)
      .def_property(
          "kind", [](const ColumnConfig& c) { return int(c.kind); },
          [](ColumnConfig& c, int k) { c.kind = ColumnKind(k); })
      .def_readwrite("is_input", &ColumnConfig::is_input)
      .def_property(
          "tokenizer", [](const ColumnConfig& c) { return int(c.text.tokenizer); },
          [](ColumnConfig& c, int k) { c.text.tokenizer = TokenizerKind(k); })
      .def_property(
          "char_k", [](const ColumnConfig& c) { return c.text.char_k; }, [](ColumnConfig& c, int k) { c.text.char_k = k; })
      .def_property(
          "lowercase", [](const ColumnConfig& c) { return c.text.lowercase; },
          [](ColumnConfig& c, bool v) { c.text.lowercase = v; })
      .def_readwrite("ngrams", &ColumnConfig::ngrams)
      .def_readwrite("normalize", &ColumnConfig::normalize)
      .def_readwrite("delimiter", &ColumnConfig::delimiter)
      .def_readwrite("bins", &ColumnConfig::bins)
      .def_readwrite("interpolate", &ColumnConfig::interpolate)
      .def_readwrite("lo", &ColumnConfig::lo)
      .def_readwrite("hi", &ColumnConfig::hi)
      .def_readwrite("quantiles", &ColumnConfig::quantiles)
      .def_readwrite("max_length", &ColumnConfig::max_length);

  py::class_<BoundFeaturizer>(f, "TableFeaturizer")
      .def(py::init<std::vector<ColumnConfig>, uint32_t, uint64_t, std::vector<std::string>>(), py::arg("columns"),
           py::arg("dim"), py::arg("seed"), py::arg("extra_keys") = std::vector<std::string>{})
      .def("set_crosses", [](BoundFeaturizer& b, std::vector<std::pair<int, int>> p) { b.core.set_crosses(std::move(p)); })
      .def("set_temporal",
           [](BoundFeaturizer& b, int key, std::vector<int> tracked, int timestamp, int length) {
             TemporalConfig t;
             t.key_column = key;
             t.tracked = std::move(tracked);
             t.timestamp_column = timestamp;
             t.length = length;
             b.core.set_temporal(t);
           })
      .def("featurize",
           [](BoundFeaturizer& b, const std::vector<ViewTuple>& views, int64_t n_rows, int n_threads, bool update) {
             const auto cols = to_views(views);
             SparseRows rows;
             {
               py::gil_scoped_release release;
               rows = b.core.featurize(cols, n_rows, n_threads, update);
             }
             return csr_to_python(std::move(rows));
           })
      .def(
          "featurize_batch",
          [](BoundFeaturizer& b, const std::vector<ViewTuple>& views, int64_t n_rows, int n_threads, bool update,
             const std::string& scaling,
             const std::optional<py::array_t<float, py::array::c_style | py::array::forcecast>>& idf,
             const std::optional<ViewTuple>& label_view, const LabelVocab* vocab, const std::string& delimiter,
             const std::string& target) {
            const auto cols = to_views(views);
            const RowScaling mode = parse_row_scaling(scaling);
            std::optional<ColumnView> label_col;
            if (label_view) label_col = to_view(*label_view);
            const BatchTarget batch_target{label_col ? &*label_col : nullptr, vocab, delimiter, target};
            FeaturizedBatch batch;
            {
              py::gil_scoped_release release;
              batch = featurize_batch(b.core, cols, n_rows, n_threads, update, mode, idf ? idf->data() : nullptr,
                                      idf ? size_t(idf->size()) : 0, batch_target);
            }
            py::object label_values = py::none();
            if (label_col && !vocab) label_values = to_numpy(std::move(batch.labels.values));
            py::tuple csr = csr_to_python(std::move(batch.rows));
            return py::make_tuple(csr[0], csr[1], csr[2], to_numpy(std::move(batch.labels.offsets)),
                                  to_numpy(std::move(batch.labels.ids)), label_values, batch.labels.n_unseen);
          },
          py::arg("views"), py::arg("n_rows"), py::arg("n_threads"), py::arg("update_history"), py::arg("scaling"),
          py::arg("idf").none(true), py::arg("label_view").none(true), py::arg("vocab").none(true),
          py::arg("delimiter"), py::arg("target"),
          "One call per batch: (indices, values scaled, offsets, label_offsets, label_ids, label_values or None, "
          "n_unseen). Labels come from `vocab`, regression targets when vocab is None, none without label_view.")
      .def("featurize_dict", &BoundFeaturizer::featurize_dict, py::arg("row"), py::arg("update_history") = false)
      .def(
          "set_id_map",
          [](BoundFeaturizer& b, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& vocabulary,
             uint32_t overflow) { b.core.set_id_map(IdMap(to_vector(vocabulary), overflow)); },
          py::arg("vocabulary"), py::arg("overflow"),
          "Maps output ids from now on: vocabulary[r] -> row r, any other id -> one of `overflow` rows after them.")
      .def_property_readonly("id_map",
                             [](BoundFeaturizer& b) -> py::object {
                               const IdMap& m = b.core.id_map();
                               if (m.empty()) return py::none();
                               return py::make_tuple(copy_numpy(m.vocabulary(), 0, m.vocabulary().size()),
                                                     m.overflow());
                             })
      .def_property_readonly("n_features", [](BoundFeaturizer& b) { return b.core.n_features(); })
      .def_property(
          "graph_block_scaling", [](BoundFeaturizer& b) { return b.core.graph_block_scaling(); },
          [](BoundFeaturizer& b, bool on) { b.core.set_graph_block_scaling(on); },
          "Graph rows scale their own features and each neighbour block separately (table_featurizer.h); "
          "False: the weighting of model files saved before")
      .def(
          "map_rows",
          [](BoundFeaturizer& b, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& indices,
             const py::array_t<float, py::array::c_style | py::array::forcecast>& values,
             const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& offsets) {
            check_offsets(offsets.data(), size_t(offsets.size()), size_t(offsets.size()), size_t(indices.size()),
                          "rows to map");
            if (values.size() != indices.size()) throw std::invalid_argument("map_rows: values and indices differ");
            SparseRows rows{to_vector(indices), to_vector(values), to_vector(offsets)};
            {
              py::gil_scoped_release release;
              b.core.id_map().apply(rows);
            }
            return csr_to_python(std::move(rows));
          },
          "CSR rows of hashed ids (featurized before the id map was set) as they are featurized now.")
      .def("index_graph_nodes",
           [](BoundFeaturizer& b, const std::vector<ViewTuple>& views, int64_t n_rows,
              py::array_t<int64_t, py::array::c_style | py::array::forcecast> label_offsets,
              py::array_t<uint32_t, py::array::c_style | py::array::forcecast> label_ids, int n_threads) {
             const auto cols = to_views(views);
             if (label_offsets.size())  // read for every row below: checked first
               check_offsets(label_offsets.data(), size_t(label_offsets.size()), size_t(n_rows) + 1,
                             size_t(label_ids.size()), "graph node labels");
             const int64_t* lo = label_offsets.size() ? label_offsets.data() : nullptr;
             const uint32_t* li = label_ids.data();
             py::gil_scoped_release release;
             b.core.index_graph_nodes(cols, n_rows, lo, li, n_threads);
           })
      .def("clear_history", [](BoundFeaturizer& b) { const auto lock = b.write_state(); b.core.history().clear(); })
      .def_property_readonly("n_history_keys",
                             [](BoundFeaturizer& b) { const auto lock = b.read_state(); return b.core.history().n_keys(); })
      .def_property_readonly("n_graph_nodes",
                             [](BoundFeaturizer& b) { const auto lock = b.read_state(); return b.core.graph().n_nodes(); })
      .def("history_state",
           [](BoundFeaturizer& b) {
             TemporalHistory::Flat flat;
             {
               const auto lock = b.read_state();
               flat = b.core.history().export_flat();
             }
             py::dict d;
             d["keys"] = to_numpy(std::move(flat.keys));
             d["offsets"] = to_numpy(std::move(flat.offsets));
             d["ts"] = to_numpy(std::move(flat.ts));
             d["values"] = to_numpy(std::move(flat.values));
             return d;
           })
      .def("load_history_state",
           [](BoundFeaturizer& b, py::array_t<uint64_t, py::array::c_style | py::array::forcecast> keys,
              py::array_t<int64_t, py::array::c_style | py::array::forcecast> offsets,
              py::array_t<int64_t, py::array::c_style | py::array::forcecast> ts,
              py::array_t<uint64_t, py::array::c_style | py::array::forcecast> values) {
             if (values.size() != ts.size())
               throw std::invalid_argument("temporal history: ts and values differ in length");
             const auto lock = b.write_state();
             b.core.history().import_flat(keys.data(), size_t(keys.size()), offsets.data(), size_t(offsets.size()),
                                          ts.data(), values.data(), size_t(ts.size()));
           })
      .def("graph_state",
           [](BoundFeaturizer& b) {
             const auto lock = b.read_state();
             const GraphIndex& g = b.core.graph();
             py::dict d;
             d["nodes"] = copy_numpy(g.nodes, 0, g.nodes.size());
             d["feature_offsets"] = copy_numpy(g.feature_offsets, 0, g.feature_offsets.size());
             d["features"] = copy_numpy(g.features, 0, g.features.size());
             d["label_offsets"] = copy_numpy(g.label_offsets, 0, g.label_offsets.size());
             d["labels"] = copy_numpy(g.labels, 0, g.labels.size());
             return d;
           })
      .def("load_graph_state",
           [](BoundFeaturizer& b, py::array_t<int64_t, py::array::c_style | py::array::forcecast> nodes,
              py::array_t<int64_t, py::array::c_style | py::array::forcecast> feature_offsets,
              py::array_t<uint32_t, py::array::c_style | py::array::forcecast> features,
              py::array_t<int64_t, py::array::c_style | py::array::forcecast> label_offsets,
              py::array_t<uint32_t, py::array::c_style | py::array::forcecast> labels) {
             const auto lock = b.write_state();
             b.core.graph().load(to_vector(nodes), to_vector(feature_offsets), to_vector(features),
                                 to_vector(label_offsets), to_vector(labels));
           });

  py::class_<LabelVocab>(f, "LabelVocab")
      .def(py::init<>())
      .def(py::init([](const std::vector<std::string>& names) {
        LabelVocab v;
        for (const auto& n : names) v.add(n);
        return v;
      }))
      .def("names", [](const LabelVocab& v) { return std::vector<std::string>(v.names().begin(), v.names().end()); })
      .def("counts", [](const LabelVocab& v) { return v.counts(); })
      .def("collect",
           [](LabelVocab& v, const ViewTuple& view, int64_t n, const std::string& delimiter, const std::string& column) {
             const ColumnView col = to_view(view);
             py::gil_scoped_release release;
             v.collect(col, n, delimiter, column);
           })
      .def("lookup", [](const LabelVocab& v, const ViewTuple& view, int64_t n, const std::string& delimiter,
                        const std::string& column) {
        const ColumnView col = to_view(view);
        LabelRows rows;
        {
          py::gil_scoped_release release;
          rows = v.lookup(col, n, delimiter, column);
        }
        return py::make_tuple(to_numpy(std::move(rows.offsets)), to_numpy(std::move(rows.ids)), rows.n_unseen);
      });

  py::class_<VocabularyCounter>(f, "VocabularyCounter",
                                 "Counts the feature ids of training rows, chunk by chunk (featurizers/src/id_map.h).")
      .def(py::init<size_t>(), py::arg("limit") = SIZE_MAX,
           "Past `limit` distinct ids it stops counting (saturated; n_distinct is then limit + 1).")
      .def("add",
           [](VocabularyCounter& c, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& ids) {
             py::gil_scoped_release release;
             c.add(ids.data(), size_t(ids.size()));
           })
      .def_property_readonly("n_distinct", &VocabularyCounter::n_distinct)
      .def_property_readonly("saturated", &VocabularyCounter::saturated)
      .def("choose", [](const VocabularyCounter& c, size_t max_rows) { return to_numpy(c.choose(max_rows)); },
           py::arg("max_rows"), "The ids by document frequency, most frequent first, at most max_rows.");
  f.def("regression_targets", [](const ViewTuple& view, int64_t n, const std::string& column) {
    const ColumnView col = to_view(view);
    LabelRows rows;
    {
      py::gil_scoped_release release;
      rows = regression_targets(col, n, column);
    }
    return py::make_tuple(to_numpy(std::move(rows.offsets)), to_numpy(std::move(rows.ids)),
                          to_numpy(std::move(rows.values)));
  });
  py::class_<CsvQuoteScanner>(f, "CsvQuoteScanner")
      .def(py::init([](const std::string& delimiter) { return CsvQuoteScanner(delimiter.at(0)); }))
      .def("feed",
           [](CsvQuoteScanner& s, py::buffer data) {
             py::buffer_info info = data.request();
             const char* p = static_cast<const char*>(info.ptr);
             const size_t n = size_t(info.size * info.itemsize);
             py::gil_scoped_release release;
             s.feed(p, n);
           })
      .def_property_readonly("in_quotes", &CsvQuoteScanner::in_quotes)
      .def_property_readonly("open_quote_line", &CsvQuoteScanner::open_quote_line)
      .def_property_readonly("lines_seen", &CsvQuoteScanner::lines_seen)
      .def_property_readonly("first_bad_line", &CsvQuoteScanner::first_bad_line)
      .def("finish", &CsvQuoteScanner::finish);

  f.def(
      "scale_rows",
      [](const py::array_t<float, py::array::c_style | py::array::forcecast>& values,
         const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& offsets, const std::string& scaling,
         const std::optional<py::array_t<float, py::array::c_style | py::array::forcecast>>& weights) {
        const RowScaling mode = parse_row_scaling(scaling);
        const size_t n = size_t(values.size()), n_rows = offsets.size() > 0 ? size_t(offsets.size() - 1) : 0;
        const int64_t* off = offsets.data();
        if (offsets.size() == 0 || off[0] != 0 || off[n_rows] != int64_t(n))
          throw std::invalid_argument("offsets must start at 0 and end at len(values) = " + std::to_string(n));
        for (size_t r = 0; r < n_rows; ++r)
          if (off[r + 1] < off[r]) throw std::invalid_argument("offsets must not decrease (row " + std::to_string(r) + ")");
        if (weights && size_t(weights->size()) != n)
          throw std::invalid_argument("weights must hold one value per feature value");
        py::array_t<float> out{py::ssize_t(n)};
        float* dst = out.mutable_data();
        std::memcpy(dst, values.data(), n * sizeof(float));
        const float* w = weights ? weights->data() : nullptr;
        {
          std::optional<py::gil_scoped_release> release;
          if (n > 4096) release.emplace();  // a one-row call is cheaper than giving the GIL away
          scale_rows(dst, off, n_rows, mode, w);
        }
        return out;
      },
      py::arg("values"), py::arg("offsets"), py::arg("scaling"), py::arg("weights") = py::none(),
      "Feature values as the network sees them (a scaled copy): see udt.trainer.scale_features.");

  f.def("count_words", [](const ViewTuple& view, int64_t n) {
    const ColumnView col = to_view(view);
    py::gil_scoped_release release;
    return count_words(col, n);
  });
  f.def("numeric_values", [](const ViewTuple& view, int64_t n, const std::string& column) {
    const ColumnView col = to_view(view);
    std::vector<double> values;
    {
      py::gil_scoped_release release;
      values = numeric_values(col, n, column);
    }
    return to_numpy(std::move(values));
  });
}

}  // namespace udt
