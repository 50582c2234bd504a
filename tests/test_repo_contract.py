"""The README's first code block holds exactly two commands (install + demo, install + tests),
and CI runs exactly the second one."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _first_code_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    assert match, "README.md has no fenced code block"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_readme_starts_with_two_commands():
    lines = _first_code_block()
    assert len(lines) == 2, lines
    demo, tests = lines
    assert "pip install ." in demo and "demos/" in demo
    assert 'pip install ".[test]"' in tests and "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [l for l in ci.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert _first_code_block()[1] in commands


def test_demo_named_by_the_readme_exists_and_its_data_ships():
    demo = _first_code_block()[0].split()[-1]
    assert (ROOT / demo).is_file()
    assert (ROOT / "demos" / "data" / "adult.csv.gz").is_file()
