#include "featurizer_bindings.h"

namespace udt {
void bind_featurizers(pybind11::module_& m) {
  m.def_submodule("featurizers", "Column featurizers: Arrow columns -> hashed sparse features");
}
}  // namespace udt
