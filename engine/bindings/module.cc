// The one compiled extension, udt._core. Each part of the C++ core registers its
// own bindings here; nothing outside the bindings folders includes pybind11.
#include <pybind11/pybind11.h>

#include "engine_bindings.h"
#include "../../featurizers/bindings/featurizer_bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "udt's C++ core: the SLIDE engine and the column featurizers";
  udt::bind_engine(m);
  udt::bind_featurizers(m);
}
