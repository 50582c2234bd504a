// Bindings of NetworkConfig: its fields under the names Python uses, validate(), and the
// bounds validate() checks (config_bounds, defined once in network_config.cc), so the Python
// layer derives its checks from them instead of retyping them.
#include <pybind11/stl.h>

#include <string>

#include "engine_bindings.h"
#include "network_config.h"

namespace py = pybind11;

namespace udt {
namespace {

py::dict bounds_dict() {
  py::object bound = py::module_::import("collections")
                         .attr("namedtuple")("EngineBound", "min max min_inclusive max_inclusive integer");
  py::dict d;
  for (const ConfigBound& b : config_bounds()) {
    py::object lo = b.integer ? py::object(py::int_(uint64_t(b.min))) : py::object(py::float_(b.min));
    py::object hi = b.integer ? py::object(py::int_(uint64_t(b.max))) : py::object(py::float_(b.max));
    d[b.name] = bound(lo, hi, b.min_inclusive, b.max_inclusive, b.integer);
  }
  return d;
}

}  // namespace

void bind_engine_config(py::module_& m) {
  py::class_<NetworkConfig>(m, "NetworkConfig")
      .def(py::init<>())
      .def_readwrite("input_dim", &NetworkConfig::input_dim)
      .def_readwrite("hidden_dim", &NetworkConfig::hidden_dim)
      .def_readwrite("output_dim", &NetworkConfig::output_dim)
      .def_readwrite("output_sparsity", &NetworkConfig::output_sparsity)
      .def_property("loss", [](const NetworkConfig& c) { return std::string(loss_name(c.loss)); },
                    [](NetworkConfig& c, const std::string& s) { c.loss = parse_loss(s); })
      .def_property("learning_rate", [](const NetworkConfig& c) { return c.adam.learning_rate; },
                    [](NetworkConfig& c, float v) { c.adam.learning_rate = v; })
      .def_property("beta1", [](const NetworkConfig& c) { return c.adam.beta1; },
                    [](NetworkConfig& c, float v) { c.adam.beta1 = v; })
      .def_property("beta2", [](const NetworkConfig& c) { return c.adam.beta2; },
                    [](NetworkConfig& c, float v) { c.adam.beta2 = v; })
      .def_property("eps", [](const NetworkConfig& c) { return c.adam.eps; },
                    [](NetworkConfig& c, float v) { c.adam.eps = v; })
      .def_property("adam_catch_up", [](const NetworkConfig& c) { return c.adam.catch_up; },
                    [](NetworkConfig& c, bool v) { c.adam.catch_up = v; })
      .def_property("embedding_optimizer",
                    [](const NetworkConfig& c) { return std::string(embedding_optimizer_name(c.embedding_optimizer)); },
                    [](NetworkConfig& c, const std::string& s) {
                      c.embedding_optimizer = parse_embedding_optimizer(s.c_str());
                    })
      .def_readwrite("seed", &NetworkConfig::seed)
      .def_readwrite("n_threads", &NetworkConfig::n_threads)
      .def_property("hash_family", [](const NetworkConfig& c) { return std::string(hash_kind_name(c.hash_kind)); },
                    [](NetworkConfig& c, const std::string& s) { c.hash_kind = parse_hash_kind(s); })
      .def_readwrite("lsh_k", &NetworkConfig::lsh_bits)
      .def_readwrite("lsh_l", &NetworkConfig::lsh_tables)
      .def_readwrite("lsh_r", &NetworkConfig::lsh_capacity)
      .def_readwrite("autotune_c1", &NetworkConfig::autotune_c1)
      .def_readwrite("autotune_c2", &NetworkConfig::autotune_c2)
      .def_readwrite("autotune_max_tables", &NetworkConfig::autotune_max_tables)
      .def_property("bucket_policy",
                    [](const NetworkConfig& c) { return std::string(bucket_policy_name(c.bucket_policy)); },
                    [](NetworkConfig& c, const std::string& s) { c.bucket_policy = parse_bucket_policy(s); })
      .def_property("rebuild_interval", [](const NetworkConfig& c) { return c.schedule.rebuild_interval; },
                    [](NetworkConfig& c, uint32_t v) { c.schedule.rebuild_interval = v; })
      .def_property("rebuild_growth", [](const NetworkConfig& c) { return c.schedule.rebuild_growth; },
                    [](NetworkConfig& c, double v) { c.schedule.rebuild_growth = v; })
      .def_property("max_rebuild_interval", [](const NetworkConfig& c) { return c.schedule.max_rebuild_interval; },
                    [](NetworkConfig& c, uint32_t v) { c.schedule.max_rebuild_interval = v; })
      .def_property("rebuild_budget", [](const NetworkConfig& c) { return c.schedule.rebuild_budget; },
                    [](NetworkConfig& c, double v) { c.schedule.rebuild_budget = v; })
      .def_property("rehash_every", [](const NetworkConfig& c) { return c.schedule.rehash_every; },
                    [](NetworkConfig& c, uint32_t v) { c.schedule.rehash_every = v; })
      .def_property("freeze_tables_after_first_epoch",
                    [](const NetworkConfig& c) { return c.schedule.freeze_after_first_epoch; },
                    [](NetworkConfig& c, bool v) { c.schedule.freeze_after_first_epoch = v; })
      .def_readwrite("label_augmentation", &NetworkConfig::label_augmentation)
      .def_readwrite("random_negatives", &NetworkConfig::random_negatives)
      .def_readwrite("embedding_init_scale", &NetworkConfig::embedding_init_scale)
      .def_readwrite("force_lsh", &NetworkConfig::force_lsh)
      .def_readwrite("initialize", &NetworkConfig::initialize)
      .def("validate", &NetworkConfig::validate);

  m.def("config_bounds", &bounds_dict,
        "{field: EngineBound(min, max, min_inclusive, max_inclusive, integer)} for every numeric NetworkConfig field, "
        "the table NetworkConfig.validate checks.");
}

}  // namespace udt
