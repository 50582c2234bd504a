#!/usr/bin/env bash
# Builds the C++ core and its unit tests (tests/cpp) under sanitizers and runs them with ctest.
# See SANITIZERS.md.  Usage:
#   tests/sanitize.sh                 # ASan+UBSan (build/asan), then TSan (build/tsan)
#   tests/sanitize.sh asan | tsan     # one of them
#   tests/sanitize.sh python [pytest args]   # the extension under ASan+UBSan (build/asan-python), then a
#                                            # pytest smoke run with it (default: the engine/featurizer tests)
# Exits non-zero on the first sanitizer report (they are fatal: -fno-sanitize-recover=all).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/.venv/bin:$PATH"   # cmake / ninja / ctest from the dev environment, if there
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
if [ "${1:-}" = python ]; then
  shift
  build="$root/build/asan-python"
  python="$root/.venv/bin/python"
  cmake -S "$root" -B "$build" "${generator[@]}" -DUDT_BUILD_PYTHON=ON -DUDT_SANITIZE=address,undefined \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_EXECUTABLE="$python" \
        -Dpybind11_DIR="$("$python" -c 'import pybind11; print(pybind11.get_cmake_dir())')" > "$build.configure.log"
  cmake --build "$build" --parallel "${UDT_SANITIZE_JOBS:-2}" --target _core
  # A copy of the package with the sanitized extension, imported first by every (sub)process:
  # sitecustomize drops the editable install's import hook, which would load the normal build.
  pkg="$build/pkg"
  rm -rf "$pkg" && mkdir -p "$pkg" && cp -r "$root/automl/udt" "$pkg/udt" && cp "$build"/_core*.so "$pkg/udt/"
  cat > "$pkg/sitecustomize.py" << 'PY'
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "ScikitBuild" not in type(f).__name__]
PY
  # libstdc++ preloaded too: ASan intercepts __cxa_throw and needs the real one loaded first.
  export PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}"
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"   # CPython itself leaks by design
  cd "$root"
  [ $# -gt 0 ] || set -- -q tests/test_engine_errors.py tests/test_engine_training.py tests/test_engine_lsh.py \
      tests/test_engine_hardening.py tests/test_concurrent_predict.py tests/test_featurize_columns.py \
      tests/test_featurize_temporal.py
  "$python" -c 'import udt._core as c, sys; assert "asan-python" in c.__file__, c.__file__'
  exec "$python" -m pytest -p no:cacheprovider "$@"
fi
for kind in ${1:-asan tsan}; do
  case "$kind" in
    asan) sanitizers=address,undefined ;;
    tsan) sanitizers=thread ;;
    *) echo "unknown sanitizer '$kind': expected asan or tsan" >&2; exit 2 ;;
  esac
  build="$root/build/$kind"
  echo "== $kind (-fsanitize=$sanitizers) in $build"
  cmake -S "$root" -B "$build" "${generator[@]}" -DUDT_BUILD_TESTS=ON -DUDT_SANITIZE="$sanitizers" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" --parallel "${UDT_SANITIZE_JOBS:-2}"
  ctest --test-dir "$build" --output-on-failure
done
