"""The house rules, checked rather than eyeballed: layering, lint, types, sizes."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vocalsplit"
MAX_FUNCTION_LINES = 80
MAX_CLI_MODULE_LINES = 250


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which(command[0], path=str(Path(sys.executable).parent)) or shutil.which(command[0])
    if tool is None:
        pytest.fail(f"{command[0]} is not installed: pip install -e '.[test]'")
    return subprocess.run([tool, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_layers_hold() -> None:
    """cli → api/evaluation → separation/training → runtime → catalog → audio → defaults → choices → errors;
    training never imports the inference pipeline; torch only under training/ and evaluation/."""
    result = _run("lint-imports")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run("ruff", "check", "vocalsplit", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout[-3000:]
    fmt = _run("ruff", "format", "--check", "vocalsplit", "tests", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_mypy_is_clean() -> None:
    result = _run("mypy", "vocalsplit")
    assert result.returncode == 0, result.stdout[-3000:]


def _functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def test_no_function_is_over_80_lines() -> None:
    found = [f for path in sorted(PACKAGE.rglob("*.py")) for f in _functions(path)]
    assert found, "no functions found: the check looks in the wrong place"
    too_long = [f"{name} ({lines} lines)" for name, lines in found if lines > MAX_FUNCTION_LINES]
    assert not too_long, too_long


def test_cli_is_a_package_of_small_modules() -> None:
    assert not (PACKAGE / "cli.py").exists()
    modules = sorted((PACKAGE / "cli").glob("*.py"))
    assert {"separate.py", "models.py", "doctor.py", "train.py", "evaluate.py"} <= {m.name for m in modules}
    sizes = {m.name: len(m.read_text(encoding="utf-8").splitlines()) for m in modules}
    assert max(sizes.values()) <= MAX_CLI_MODULE_LINES, sizes
