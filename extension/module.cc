// The one compiled extension, udt._core: its entry. Each part of the C++ core (the engine, the
// featurizers) registers its own bindings from its bindings folder; nothing outside the bindings
// folders and this file includes pybind11.
#include <pybind11/pybind11.h>

#include "engine_bindings.h"
#include "featurizer_bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "udt's C++ core: the SLIDE engine and the column featurizers";
  udt::bind_engine(m);
  udt::bind_featurizers(m);
}
