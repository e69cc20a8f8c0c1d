"""pytest plugin: record every CRM exchange of the session and check it against our Zoho contract.

At start it points ``ZOHO_EMULATOR_RECORD`` at a file (unless it is set already), so every
emulator the session starts (subprocess or in-thread) appends its exchanges there; before each
test it writes a marker line with the test's id. At the end every exchange is validated
(``zoho_contract``): a response that breaks our schemas of Zoho's operations, or a request body
the provider's client sent that does, fails the session and is listed with the test that made it.
Set ``ZOHOREL_CONTRACT_CHECK=0`` to record without checking.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator.recording import RECORD_ENV
from tests.contract.zoho_contract import ContractChecker, Problem, read_exchanges

#: At most this many problems are printed (all are counted).
MAX_SHOWN = 30


@dataclass
class SessionRecording:
    """The session's recording file and the outcome of its check."""

    path: Path
    owned: bool
    fd: int
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    seconds: float = 0.0
    done: bool = False


_KEY = pytest.StashKey[SessionRecording]()


def pytest_configure(config: pytest.Config) -> None:
    given = os.environ.get(RECORD_ENV)
    if given:
        path, owned = Path(given), False
    else:
        fd, name = tempfile.mkstemp(prefix="zohorel-exchanges-", suffix=".jsonl")
        os.close(fd)
        path, owned = Path(name), True
        os.environ[RECORD_ENV] = name
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    config.stash[_KEY] = SessionRecording(path, owned, fd)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    recording = item.config.stash.get(_KEY, None)
    if recording is not None:
        os.write(recording.fd, json.dumps({"test": item.nodeid}).encode() + b"\n")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recording = session.config.stash.get(_KEY, None)
    if recording is None or recording.done:
        return
    recording.done = True
    os.close(recording.fd)
    if os.environ.get("ZOHOREL_CONTRACT_CHECK", "1") == "0":
        return
    started = time.perf_counter()
    checker = ContractChecker()
    recording.problems = checker.check(read_exchanges(recording.path))
    recording.checked = checker.checked
    recording.seconds = time.perf_counter() - started
    if recording.problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if recording.owned and not recording.problems:
        recording.path.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    recording = terminalreporter.config.stash.get(_KEY, None)
    if recording is None or not recording.done or not recording.checked:
        return
    problems = recording.problems
    terminalreporter.write_sep("-", "zohorel contract: CRM exchanges against our Zoho schemas")
    terminalreporter.write_line(
        f"exchanges checked: {recording.checked} in {recording.seconds:.1f}s, "
        f"breaking the contract: {len(problems)}"
    )
    for problem in problems[:MAX_SHOWN]:
        terminalreporter.write_line(f"  {problem}", red=True)
    if len(problems) > MAX_SHOWN:
        terminalreporter.write_line(f"  ... and {len(problems) - MAX_SHOWN} more")
    if problems:
        terminalreporter.write_line(f"recording kept: {recording.path}", red=True)
