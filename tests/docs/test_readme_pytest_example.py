"""The README's pytest example, run as written: its two files are copied out of the README into a
fresh project next to example 1, and pytest runs there in a clean environment (no AIRFLOW_* from
this suite), as a user who pasted them would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLE_1 = ROOT / "dags_examples" / "example_campaign_members.py"


def readme_files() -> dict[str, str]:
    """The README's Python blocks that open with ``# <path>`` naming a file of the example."""
    blocks = re.findall(r"```python\n# (tests/[\w./]+\.py)\n(.*?)```", README.read_text(), re.S)
    return {path: body for path, body in blocks}


def test_the_readme_names_both_files_of_the_example():
    assert set(readme_files()) == {"tests/conftest.py", "tests/test_campaign_members.py"}


def test_the_readme_pytest_example_passes_as_written(tmp_path: Path):
    project = tmp_path / "project"
    (project / "dags").mkdir(parents=True)
    shutil.copy(EXAMPLE_1, project / "dags" / EXAMPLE_1.name)
    for path, body in readme_files().items():
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ZOHOREL_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "1 passed" in output
