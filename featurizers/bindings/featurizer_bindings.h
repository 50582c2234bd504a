#pragma once
#include <pybind11/pybind11.h>

namespace udt {
// Registers the featurizer classes on the extension module (submodule `featurizers`).
void bind_featurizers(pybind11::module_& m);
}
