"""The import rules hold on the source, and the checker catches what it is there to catch."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_imports.py"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "src" / "ketacare" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "src"


def test_the_source_has_no_import_cycle_and_no_two_apps_importing_each_other():
    result = _check()
    assert result.returncode == 0, result.stdout
    assert "no import cycle" in result.stdout


def test_two_apps_importing_each_other_fail_the_check(tmp_path):
    # given a lower app that imports a higher one back
    src = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "ledger/__init__.py": "",
            "ledger/services.py": "from ketacare.treatment import models\n",
            "treatment/__init__.py": "",
            "treatment/models.py": "from ketacare.ledger.services import x\n",
        },
    )
    # when / then
    result = _check("--root", str(src))
    assert result.returncode == 1
    assert "apps ledger and treatment import each other" in result.stdout


def test_an_import_moved_into_a_function_to_dodge_a_cycle_is_still_a_cycle(tmp_path):
    src = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "outcomes/__init__.py": "",
            "outcomes/services.py": "from ketacare.outcomes.tasks import notify\n",
            "outcomes/tasks.py": (
                "def notify():\n    from ketacare.outcomes.services import record\n"
            ),
        },
    )
    result = _check("--root", str(src))
    assert result.returncode == 1
    assert "module import cycle among: ketacare.outcomes.services, ketacare.outcomes.tasks" in (
        result.stdout
    )
    assert "imports inside functions: src/ketacare/outcomes/tasks.py:2" in result.stdout


def test_imports_for_type_checking_only_are_not_cycles(tmp_path):
    src = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "a/__init__.py": "",
            "a/m.py": "from ketacare.b import n\n",
            "b/__init__.py": "",
            "b/n.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from ketacare.a import m\n",
        },
    )
    assert _check("--root", str(src)).returncode == 0
