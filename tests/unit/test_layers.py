"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml pass, and no module outgrows
400 lines."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run([lint, "--no-cache"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout


def test_no_module_is_over_400_lines():
    """Issue 12: a module that outgrows 400 lines is doing more than one job; split it by job."""
    long = {str(path.relative_to(ROOT)): lines for path in (ROOT / "matchmaker").rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"modules over 400 lines: {long}"
