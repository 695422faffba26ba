"""Finding libwattprof: WATTPROF_LIBRARY, the source tree, an install prefix."""
import os

import wattprof
from wattprof import _lib
from helpers import PYTHON, ROOT, run


def test_loads_the_library_named_by_the_environment():
    assert os.path.samefile(wattprof.library_path(), os.environ["WATTPROF_LIBRARY"])
    assert wattprof.version().count(".") == 2


def test_a_missing_library_is_a_clear_error():
    p = run([PYTHON, "-c", "import wattprof; wattprof.Tracker().start()"],
            WATTPROF_LIBRARY="/nonexistent/libwattprof.so")
    assert p.returncode == 1
    assert "cannot load libwattprof" in p.stderr and "/nonexistent/libwattprof.so" in p.stderr


def test_import_works_without_the_library():
    p = run([PYTHON, "-c", "import wattprof; print(wattprof.Tracker)"],
            WATTPROF_LIBRARY="/nonexistent/libwattprof.so")
    assert p.returncode == 0, p.stderr


def test_source_tree_then_install_prefix_candidates(monkeypatch):
    monkeypatch.delenv("WATTPROF_LIBRARY")
    cands = list(_lib._candidates())
    assert cands[0] == os.path.join(ROOT, "build", "libwattprof.so")
    assert cands[-1] == "libwattprof.so.0"
    here = "/opt/wp/lib/python3.11/dist-packages/wattprof"
    assert _lib._install_prefix(here) == "/opt/wp"
    assert _lib._install_prefix("/usr/lib/python3/dist-packages/wattprof") == "/usr"
    assert _lib._install_prefix(os.path.join(ROOT, "python", "wattprof")) is None
