"""Run code in a fresh interpreter, so that a crash or a hang fails one test instead of the test run."""
import os
import subprocess
import sys
import textwrap

ENV = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")


def survives(code: str, timeout: float = 240) -> str:
    """Runs `code` (dedented) in a fresh interpreter; it must exit 0. Returns its standard output."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=ENV)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout
