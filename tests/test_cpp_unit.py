"""Builds the plain C++ core with its unit tests (tests/cpp) and runs them with ctest.

These test pieces with no Python surface: the DWTA kernel versions agree bit for bit,
the bucket policies, active-set selection and the thread pool. The build directory is
kept under build/ so reruns are incremental.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "cpp-tests"


def _tool(name):
    found = shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))
    if not found:
        pytest.skip(f"{name} is not installed (it comes with the 'test' extra)")
    return found


def test_cpp_unit_tests_pass():
    cmake, ctest = _tool("cmake"), _tool("ctest")
    generator = ["-G", "Ninja"] if (shutil.which("ninja") or shutil.which("ninja", path=os.path.dirname(sys.executable))) else []
    env = dict(os.environ)
    env.setdefault("PATH", "")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    if not (BUILD / "CMakeCache.txt").exists():
        subprocess.run([cmake, "-S", str(ROOT), "-B", str(BUILD), "-DUDT_BUILD_TESTS=ON", "-DCMAKE_BUILD_TYPE=Release",
                        *generator], check=True, capture_output=True, env=env)
    build = subprocess.run([cmake, "--build", str(BUILD), "--parallel", "2"], capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    run = subprocess.run([ctest, "--output-on-failure"], cwd=BUILD, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "100% tests passed" in run.stdout
