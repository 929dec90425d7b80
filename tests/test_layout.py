"""The runtime package stands alone: `bot` never imports the offline tools in `kbgen`, which the wheel and
the image do not carry, while an editable install still makes them importable for maintainers and tests."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

RUNTIME_ENTRY_POINTS = ("bot.cli", "bot.pipeline", "bot.slack.serve")


def _python(code: str, cwd) -> str:
    # A fresh interpreter, away from the checkout, so only what is installed and what gets imported counts.
    res = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_runtime_entry_points_load_no_tools(tmp_path):
    loaded = _python(
        f"import sys\nfor m in {RUNTIME_ENTRY_POINTS!r}: __import__(m)\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('bot', 'kbgen'))))",
        tmp_path,
    ).split()
    assert set(RUNTIME_ENTRY_POINTS) <= set(loaded)
    assert [m for m in loaded if m.split(".")[0] == "kbgen"] == []


def _imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_runtime_module_imports_the_tools_even_lazily():
    """Imports inside functions do not show in sys.modules until they run; read them from the source."""
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for name in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if name.split(".")[0] == "kbgen"
    ]
    assert offenders == []


def test_editable_install_makes_the_tools_importable(tmp_path):
    assert _python("import kbgen.cli; print(kbgen.cli.__file__)", tmp_path).startswith(str(ROOT / "kbgen"))
