// Bindings of the engine's state: its arrays as numpy views and their names, the shape each
// array has for a configuration (checked before anything is allocated), and the sparse Adam
// catch-up on numpy rows (distributed merges). The names are defined here only; Python reads
// them (STATE_ARRAYS, ...) instead of retyping them.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "engine_bindings.h"
#include "file_mapping.h"
#include "network.h"
#include "loaded_weights.h"

namespace py = pybind11;

namespace udt {
namespace {

py::array matrix_view(AlignedMatrix& m, py::handle owner) {
  return py::array(py::dtype::of<float>(), {m.rows(), m.cols()}, {m.stride() * sizeof(float), sizeof(float)},
                   m.data(), owner);
}
template <typename T>
py::array vector_view(std::vector<T>& v, py::handle owner) {
  return py::array(py::dtype::of<T>(), {v.size()}, {sizeof(T)}, v.data(), owner);
}
py::array row_view(AlignedMatrix& m, py::handle owner) {
  return py::array(py::dtype::of<float>(), {m.cols()}, {sizeof(float)}, m.row(0), owner);
}
// The buckets' view owns a share of their storage, not the network: training reshapes the
// index (after index_labels, on restore_lsh), and a view taken before stays valid memory.
// A restored 16-bit index is viewed as its uint16 words (saved as they are).
template <typename Word>
py::array words_view(const std::shared_ptr<AlignedArray<Word>>& words) {
  using Storage = std::shared_ptr<AlignedArray<Word>>;
  auto* share = new Storage(words);
  py::capsule owner(share, [](void* p) { delete static_cast<Storage*>(p); });
  return py::array(py::dtype::of<Word>(), {(*share)->size()}, {sizeof(Word)}, (*share)->data(), owner);
}
py::array buckets_view(const LshIndex& index) {
  return index.narrow() ? words_view(index.narrow_words()) : words_view(index.words());
}

// Every state array: its name, its view, its shape for (input, hidden, output) dims, whether it
// is optimizer state (a file for inference may leave it out) and whether a network of this
// configuration has it (the embedding's Adam moments or its row-wise moments, never both).
struct StateArray {
  const char* name;
  py::array (*view)(Network&, py::handle);
  std::vector<size_t> (*shape)(size_t in, size_t hid, size_t out);
  const char* dtype;
  bool optimizer;
  bool (*present)(EmbeddingOptimizer);
};

bool always(EmbeddingOptimizer) { return true; }
bool with_adam(EmbeddingOptimizer e) { return e == EmbeddingOptimizer::Adam; }
bool with_rowwise(EmbeddingOptimizer e) { return e == EmbeddingOptimizer::Rowwise; }

#define UDT_VIEW(expr) [](Network& n, py::handle o) { return expr; }
#define UDT_SHAPE(...) [](size_t in, size_t hid, size_t out) { return std::vector<size_t>{__VA_ARGS__}; }
const std::vector<StateArray>& state_arrays() {
  constexpr bool kParam = false, kOptimizer = true;
  static const std::vector<StateArray> arrays = {
      {"embedding.weight", UDT_VIEW(matrix_view(n.hidden().weights, o)), UDT_SHAPE(in, hid), "float32", kParam, always},
      {"embedding.bias", UDT_VIEW(row_view(n.hidden().bias, o)), UDT_SHAPE(hid), "float32", kParam, always},
      {"embedding.adam_m", UDT_VIEW(matrix_view(n.hidden().adam_state.m, o)), UDT_SHAPE(in, hid), "float32",
       kOptimizer, with_adam},
      {"embedding.adam_v", UDT_VIEW(matrix_view(n.hidden().adam_state.v, o)), UDT_SHAPE(in, hid), "float32",
       kOptimizer, with_adam},
      {"embedding.adam_steps", UDT_VIEW(vector_view(n.hidden().adam_state.steps, o)), UDT_SHAPE(in), "uint64",
       kOptimizer, with_adam},
      {"embedding.rowwise_v", UDT_VIEW(vector_view(n.hidden().rowwise_state.v, o)), UDT_SHAPE(in), "float32",
       kOptimizer, with_rowwise},
      {"embedding.rowwise_steps", UDT_VIEW(vector_view(n.hidden().rowwise_state.steps, o)), UDT_SHAPE(in), "uint64",
       kOptimizer, with_rowwise},
      {"embedding.bias_adam_m", UDT_VIEW(row_view(n.hidden().bias_adam.m, o)), UDT_SHAPE(hid), "float32", kOptimizer,
       always},
      {"embedding.bias_adam_v", UDT_VIEW(row_view(n.hidden().bias_adam.v, o)), UDT_SHAPE(hid), "float32", kOptimizer,
       always},
      {"embedding.bias_adam_steps", UDT_VIEW(vector_view(n.hidden().bias_adam.steps, o)), UDT_SHAPE(1), "uint64",
       kOptimizer, always},
      {"output.weight", UDT_VIEW(matrix_view(n.output().weights, o)), UDT_SHAPE(out, hid), "float32", kParam, always},
      {"output.bias", UDT_VIEW(vector_view(n.output().bias, o)), UDT_SHAPE(out), "float32", kParam, always},
      {"output.adam_m", UDT_VIEW(matrix_view(n.output().adam_state.m, o)), UDT_SHAPE(out, hid), "float32", kOptimizer,
       always},
      {"output.adam_v", UDT_VIEW(matrix_view(n.output().adam_state.v, o)), UDT_SHAPE(out, hid), "float32", kOptimizer,
       always},
      {"output.adam_steps", UDT_VIEW(vector_view(n.output().adam_state.steps, o)), UDT_SHAPE(out), "uint64",
       kOptimizer, always},
      {"output.bias_adam_m", UDT_VIEW(vector_view(n.output().adam_state.m_bias, o)), UDT_SHAPE(out), "float32",
       kOptimizer, always},
      {"output.bias_adam_v", UDT_VIEW(vector_view(n.output().adam_state.v_bias, o)), UDT_SHAPE(out), "float32",
       kOptimizer, always},
  };
  return arrays;
}
#undef UDT_VIEW
#undef UDT_SHAPE
constexpr const char* kBuckets = "lsh.buckets";  // LSH networks only
// Counters saved beside the arrays (udt.engine.Network.state_arrays adds them).
const std::vector<std::string> kCounters = {"train.batches", "lsh.schedule", "lsh.params"};

py::dict state_views(py::object self) {
  Network& net = self.cast<Network&>();
  std::shared_lock<std::shared_mutex> lock;
  {
    py::gil_scoped_release release;  // a training batch may hold the lock
    lock = net.read_lock();
  }
  py::dict d;
  for (const StateArray& a : state_arrays())
    if (a.present(net.config().embedding_optimizer)) d[a.name] = a.view(net, self);
  if (net.uses_lsh()) d[kBuckets] = buckets_view(net.output().sampler->index());
  return d;
}

py::dict state_layout(uint32_t input_dim, uint32_t hidden_dim, uint32_t output_dim, uint32_t lsh_k, uint32_t lsh_l,
                      uint32_t lsh_r, const std::string& embedding_optimizer) {
  NetworkConfig c;
  c.input_dim = input_dim;
  c.hidden_dim = hidden_dim;
  c.output_dim = output_dim;
  c.embedding_optimizer = parse_embedding_optimizer(embedding_optimizer.c_str());
  c.validate();
  py::dict d;
  for (const StateArray& a : state_arrays())
    if (a.present(c.embedding_optimizer)) d[a.name] = py::make_tuple(py::tuple(py::cast(a.shape(input_dim, hidden_dim, output_dim))), a.dtype);
  if (lsh_l) d[kBuckets] = py::make_tuple(py::make_tuple(LshIndex::words_for(lsh_l, lsh_k, lsh_r)), "uint32");
  return d;
}

// A C-contiguous writable array of `dtype` with `rows` rows; written in place, so never converted.
template <typename T>
T* in_place(const py::array& a, const char* name, size_t rows, size_t* cols) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || !a.writeable() || a.ndim() < 1 ||
      a.ndim() > 2 || size_t(a.shape(0)) != rows)
    throw std::invalid_argument(std::string(name) + " must be a writable C-contiguous " +
                                py::str(py::dtype::of<T>()).cast<std::string>() + " array of " +
                                std::to_string(rows) + " rows (1-d or 2-d)");
  if (cols) *cols = a.ndim() == 2 ? size_t(a.shape(1)) : 0;
  return static_cast<T*>(const_cast<void*>(a.data()));
}

void adam_catch_up(const py::array& weights, const py::array& m, const py::array& v,
                   const py::array_t<uint64_t, py::array::c_style | py::array::forcecast>& steps,
                   const py::array_t<uint64_t, py::array::c_style | py::array::forcecast>& target, float learning_rate,
                   float beta1, float beta2, float eps) {
  const size_t rows = size_t(steps.size());
  if (steps.ndim() != 1 || target.ndim() != 1 || size_t(target.size()) != rows)
    throw std::invalid_argument("steps and target must be 1-d with one entry per row");
  size_t cols = 0, m_cols = 0, v_cols = 0;
  float* w = in_place<float>(weights, "weights", rows, &cols);
  float* pm = in_place<float>(m, "m", rows, &m_cols);
  float* pv = in_place<float>(v, "v", rows, &v_cols);
  if (m_cols != cols || v_cols != cols) throw std::invalid_argument("weights, m and v must have the same shape");
  AdamConfig cfg;
  cfg.learning_rate = learning_rate;
  cfg.beta1 = beta1;
  cfg.beta2 = beta2;
  cfg.eps = eps;
  py::gil_scoped_release release;
  catch_up_rows(cfg, w, pm, pv, rows, cols, cols, steps.data(), target.data());
}

// ---- model files mapped into memory (udt.model_file.serialization) ----------------------------
constexpr const char* kMappingCapsule = "udt.file_mapping";
using MappingShare = std::shared_ptr<FileMapping>;

// `length` bytes of the open file `fd` from `offset`, mapped copy-on-write, as a writable uint8
// array that keeps the mapping alive (numpy views of it do too).
py::array map_file(int fd, uint64_t offset, size_t length) {
  auto* share = new MappingShare(std::make_shared<FileMapping>(fd, offset, length));
  py::capsule owner(share, kMappingCapsule, [](PyObject* c) {
    delete static_cast<MappingShare*>(PyCapsule_GetPointer(c, kMappingCapsule));
  });
  return py::array(py::dtype::of<uint8_t>(), {length}, {size_t(1)}, (*share)->data(), owner);
}

// A model file's reduced-precision weight matrix (uint16 bfloat16 bits, or int8 with a float32 scale per
// row) as float32 rows of the engine's stride in anonymous memory owned like a mapped file, so the
// network adopts it (adopt_state_array) instead of copying it again.
py::tuple widen_weights(const py::array& stored, const py::object& scale) {
  const bool bf16 = py::isinstance<py::array_t<uint16_t>>(stored);
  if (!(bf16 || py::isinstance<py::array_t<int8_t>>(stored)) || stored.ndim() != 2 ||
      !(stored.flags() & py::array::c_style))
    throw std::invalid_argument("reduced-precision weights must be a C-contiguous 2-d uint16 (bfloat16) or int8 array");
  const size_t rows = size_t(stored.shape(0)), cols = size_t(stored.shape(1));
  py::array_t<float, py::array::c_style | py::array::forcecast> scales;
  if (!bf16) {
    if (scale.is_none()) throw std::invalid_argument("int8 weights need one float32 scale per row");
    scales = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(scale);
    if (!scales || scales.ndim() != 1 || size_t(scales.size()) != rows)
      throw std::invalid_argument("int8 weights need one float32 scale per row (" + std::to_string(rows) + ")");
  }
  const size_t stride = AlignedMatrix::stride_for(cols);
  auto* share = new MappingShare(std::make_shared<FileMapping>(std::max<size_t>(1, rows * stride) * sizeof(float)));
  py::capsule owner(share, kMappingCapsule, [](PyObject* c) {
    delete static_cast<MappingShare*>(PyCapsule_GetPointer(c, kMappingCapsule));
  });
  float* out = reinterpret_cast<float*>((*share)->data());
  size_t nonfinite = 0;
  {
    py::gil_scoped_release release;
    ThreadPool pool(0);  // every hardware thread: loading is all this process does now
    nonfinite = bf16 ? widen_bfloat16(static_cast<const uint16_t*>(stored.data()), rows, cols, out, stride, pool)
                     : widen_int8(static_cast<const int8_t*>(stored.data()), scales.data(), rows, cols, out, stride,
                                  pool);
  }
  return py::make_tuple(
      py::array(py::dtype::of<float>(), {rows, cols}, {stride * sizeof(float), sizeof(float)}, out, owner), nonfinite);
}

// NaN or infinite values in a float32 array of 1 or 2 dimensions (rows may be padded).
size_t count_nonfinite_of(const py::array& array) {
  if (array.dtype().kind() != 'f' || array.itemsize() != 4 || array.ndim() < 1 || array.ndim() > 2 ||
      (array.ndim() == 2 ? array.strides(1) != 4 || array.strides(0) % 4 != 0 : array.strides(0) != 4))
    throw std::invalid_argument("count_nonfinite needs a float32 array of 1 or 2 dimensions with contiguous rows");
  const size_t rows = array.ndim() == 2 ? size_t(array.shape(0)) : 1;
  const size_t cols = size_t(array.shape(array.ndim() - 1));
  const size_t stride = array.ndim() == 2 ? size_t(array.strides(0)) / 4 : cols;
  const float* data = static_cast<const float*>(array.data());
  py::gil_scoped_release release;
  ThreadPool pool(rows * cols >= (size_t(1) << 20) ? 0 : 1);
  return count_nonfinite(data, rows, cols, stride, pool);
}

uint32_t crc32c_of(const py::buffer& b, uint32_t crc) {
  const py::buffer_info info = b.request();
  if (!PyBuffer_IsContiguous(info.view(), 'C')) throw std::invalid_argument("crc32c needs a contiguous buffer");
  const size_t n = size_t(info.size) * size_t(info.itemsize);
  py::gil_scoped_release release;
  return crc32c(info.ptr, n, crc);
}

// The mapping behind a numpy array from map_file (through views of it), or null.
MappingShare mapping_of(py::handle array) {
  py::handle obj = array;
  for (int depth = 0; depth < 64 && obj && !obj.is_none(); ++depth) {
    if (PyCapsule_CheckExact(obj.ptr())) {
      if (std::string(PyCapsule_GetName(obj.ptr()) ? PyCapsule_GetName(obj.ptr()) : "") != kMappingCapsule)
        return nullptr;
      return *static_cast<MappingShare*>(PyCapsule_GetPointer(obj.ptr(), kMappingCapsule));
    }
    if (!py::isinstance<py::array>(obj)) return nullptr;
    obj = py::reinterpret_borrow<py::array>(obj).base();
  }
  return nullptr;
}

// The matrices a mapped array can replace (the large ones; vectors are copied).
std::vector<AlignedMatrix*> adoptable(Network& n) {
  return {&n.hidden().weights, &n.hidden().adam_state.m, &n.hidden().adam_state.v,
          &n.output().weights, &n.output().adam_state.m, &n.output().adam_state.v};
}

// Makes state array `name` use `array`'s memory, a view of a mapped model file laid out as the
// engine's matrix is (same shape and row stride, 64-byte aligned), instead of copying it.
// False (nothing changed) when the array is not such a view or the state array is not a matrix.
bool adopt_state_array(py::object self, const std::string& name, const py::array& array) {
  Network& net = self.cast<Network&>();
  const MappingShare mapping = mapping_of(array);
  if (!mapping || array.dtype().kind() != 'f' || array.itemsize() != 4 || array.ndim() != 2) return false;
  for (const StateArray& a : state_arrays()) {
    if (name != a.name || !a.present(net.config().embedding_optimizer)) continue;
    const py::array view = a.view(net, self);
    for (AlignedMatrix* m : adoptable(net)) {
      if (view.ndim() != 2 || m->rows() == 0 || view.data() != m->data()) continue;
      const auto* begin = static_cast<const uint8_t*>(array.data());
      const size_t bytes = m->rows() * m->stride() * sizeof(float);
      if (size_t(array.shape(0)) != m->rows() || size_t(array.shape(1)) != m->cols() ||
          size_t(array.strides(0)) != m->stride() * sizeof(float) || size_t(array.strides(1)) != sizeof(float) ||
          begin < mapping->data() || begin + bytes > mapping->data() + mapping->size() ||
          reinterpret_cast<uintptr_t>(begin) % 64 != 0)
        return false;
      auto lock = net.write_lock();
      m->adopt(static_cast<float*>(const_cast<void*>(array.data())), mapping);
      return true;
    }
  }
  return false;
}

// Restores LSH tables from `buckets` (the checks of Network::restore_lsh): uint16 words (a model file's
// narrowed tables) stay 16-bit, anything else is read as uint32. They are used in place when they are a
// 64-byte aligned view of a mapped model file; True when they were.
template <typename Word>
bool restore_words(Network& net, uint32_t num_tables, uint32_t capacity, const py::array& buckets) {
  const MappingShare mapping = mapping_of(buckets);
  const bool in_place = mapping && py::isinstance<py::array_t<Word>>(buckets) && buckets.ndim() == 1 &&
                        (buckets.flags() & py::array::c_style) &&
                        static_cast<const uint8_t*>(buckets.data()) >= mapping->data() &&
                        static_cast<const uint8_t*>(buckets.data()) + buckets.nbytes() <=
                            mapping->data() + mapping->size() &&
                        reinterpret_cast<uintptr_t>(buckets.data()) % 64 == 0;
  const auto words = py::array_t<Word, py::array::c_style | py::array::forcecast>::ensure(buckets);
  if (!words || words.ndim() != 1) throw std::invalid_argument("lsh.buckets must be a 1-d array of uint32 ids");
  py::gil_scoped_release release;
  net.restore_lsh(num_tables, capacity, words.data(), size_t(words.size()),
                  in_place ? std::shared_ptr<void>(mapping) : nullptr);
  return in_place;
}

bool restore_lsh_from(Network& net, uint32_t num_tables, uint32_t capacity, const py::array& buckets) {
  if (py::isinstance<py::array_t<uint16_t>>(buckets)) return restore_words<uint16_t>(net, num_tables, capacity, buckets);
  return restore_words<uint32_t>(net, num_tables, capacity, buckets);
}

}  // namespace

void bind_engine_state(py::module_& m, py::class_<Network>& network) {
  network.def("state_views", &state_views,
              "Zero-copy views of every state array (STATE_ARRAYS; lsh.buckets for an LSH network).");
  py::list names;
  for (const StateArray& a : state_arrays()) names.append(a.name);
  names.append(kBuckets);
  m.attr("STATE_ARRAYS") = py::tuple(names);
  m.attr("LSH_STATE_ARRAYS") = py::make_tuple(kBuckets);
  py::list optimizer;
  for (const StateArray& a : state_arrays())
    if (a.optimizer) optimizer.append(a.name);
  m.attr("OPTIMIZER_STATE_ARRAYS") = py::tuple(optimizer);
  m.attr("STATE_COUNTERS") = py::tuple(py::cast(kCounters));
  m.def("state_layout", &state_layout, py::arg("input_dim"), py::arg("hidden_dim"), py::arg("output_dim"),
        py::arg("lsh_k") = 0, py::arg("lsh_l") = 0, py::arg("lsh_r") = 0, py::arg("embedding_optimizer") = "adam",
        "{name: (shape, dtype)} of every state array of a network of these dims and embedding optimizer (and, with "
        "lsh_l > 0, of LSH tables K, L, R), computed without allocating; ValueError names a field out of bounds.");
  m.def("map_file", &map_file, py::arg("fd"), py::arg("offset"), py::arg("length"),
        "`length` bytes of the open file `fd` from `offset` (a multiple of the page size), mapped copy-on-write "
        "(MAP_PRIVATE: writes never reach the file), as a writable uint8 array that keeps the mapping alive.");
  m.attr("PAGE_SIZE") = FileMapping::page_size();
  m.def("widen_weights", &widen_weights, py::arg("stored"), py::arg("scale") = py::none(),
        "(float32 (rows, cols), how many of its values are NaN or infinite) from a model file's bfloat16 bits "
        "(uint16) or int8 values times a float32 scale per row, in rows of the engine's stride that a network "
        "adopts without a copy. Parallel; the GIL is released.");
  m.def("count_nonfinite", &count_nonfinite_of, py::arg("array"),
        "How many values of a float32 array (1-d, or 2-d with contiguous rows) are NaN or infinite; parallel.");
  m.def("crc32c", &crc32c_of, py::arg("data"), py::arg("crc") = 0,
        "CRC-32C (Castagnoli) of a contiguous buffer, continuing from `crc`; the GIL is released.");
  network.def("restore_lsh_from", &restore_lsh_from, py::arg("num_tables"), py::arg("capacity"), py::arg("buckets"),
              "restore_lsh, using `buckets` in place (copy-on-write) when they are an aligned view of map_file; "
              "True when they were.");
  network.def("adopt_state_array", &adopt_state_array, py::arg("name"), py::arg("array"),
              "Makes state array `name` use `array`'s memory without a copy, where `array` is a view of map_file "
              "laid out as the engine's matrix (shape, row stride, 64-byte alignment); False (nothing changed) "
              "otherwise. For a network no other thread uses yet.");
  m.def("adam_catch_up", &adam_catch_up, py::arg("weights"), py::arg("m"), py::arg("v"), py::arg("steps"),
        py::arg("target"), py::arg("learning_rate"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
        "In place: every row r with 0 < steps[r] < target[r] takes the zero-gradient Adam steps steps[r]+1 .. "
        "target[r] in the engine's closed form (sparse_adam.h). weights, m, v: float32 (rows, cols) or (rows,) "
        "(a bias). steps is left unchanged.");
}

}  // namespace udt
