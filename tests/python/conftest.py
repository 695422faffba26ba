"""Fixtures of the Python binding's tests; paths and helpers are in helpers.py."""
import pytest

import helpers  # noqa: F401  (sets the environment's defaults and sys.path)


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """Tests measure in-process unless they run `wattprof run` themselves, even when
    pytest itself runs under `wattprof run`."""
    monkeypatch.delenv("WATTPROF_CONTROL", raising=False)

