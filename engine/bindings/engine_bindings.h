#pragma once
#include <pybind11/pybind11.h>

namespace udt {
class Network;
void bind_engine(pybind11::module_& m);
// NetworkConfig and its bounds (config_bindings.cc), called by bind_engine.
void bind_engine_config(pybind11::module_& engine);
// The state half of the engine's bindings (state_bindings.cc), called by bind_engine.
void bind_engine_state(pybind11::module_& engine, pybind11::class_<Network>& network);
}
