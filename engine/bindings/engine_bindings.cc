#include "engine_bindings.h"

namespace udt {
void bind_engine(pybind11::module_& m) {
  m.def_submodule("engine", "The SLIDE engine: LSH-sparse networks trained with sparse Adam");
}
}  // namespace udt
