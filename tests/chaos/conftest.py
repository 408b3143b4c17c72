"""The fault-injection suite (`make chaos`): the end-to-end stack, with faults.

Each scenario runs real processes against the emulator, injects its faults
and then checks the books (``books.check``) and ``manage.py reconcile``. The
figures of each scenario are printed at the end of the run and written to
``test-artifacts/chaos-results.json``.
"""

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, emulator, stack, stack_tables  # noqa: F401  (fixtures)

RESULTS: list[dict] = []
ARTIFACTS = REPO / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.chaos)


@pytest.fixture
def figures(request):
    """What the scenario did and found: printed in the summary, whether it passed or not."""
    found = {"scenario": request.node.name.removeprefix("test_").replace("_", " ")}
    yield found
    RESULTS.append(found)


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("chaos: per-scenario figures")
    for result in RESULTS:
        write(result["scenario"])
        for name, value in result.items():
            if name != "scenario":
                write(f"    {name:<40} {value}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chaos-results.json").write_text(json.dumps(RESULTS, indent=2, default=str) + "\n")
