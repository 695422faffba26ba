"""Helpers and paths for the Python binding's tests (imported by conftest.py first).

meson sets WATTPROF_LIBRARY (the build's libwattprof.so), WATTPROF (the wattprof
binary) and PYTHONPATH (the source tree's python/). Run by hand, the defaults are the
source tree's build/: `/usr/bin/python3 -m pytest tests/python` after `make`.
"""
import json
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_DIR = os.path.join(ROOT, "python")
PYTHON = "/usr/bin/python3"

os.environ.setdefault("WATTPROF_LIBRARY", os.path.join(ROOT, "build", "libwattprof.so"))
os.environ.setdefault("WATTPROF", os.path.join(ROOT, "build", "wattprof"))
os.environ.setdefault("WATTPROF_DATA", os.path.join(ROOT, "data"))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)


def burn(seconds):
    """Keeps one CPU busy for about `seconds`."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        for i in range(1000):
            x += i
    return x


def child_env(**extra):
    """The environment of a child Python: this package on PYTHONPATH, no bytecode."""
    env = dict(os.environ)
    env.pop("WATTPROF_CONTROL", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [PYTHON_DIR] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run(cmd, timeout=300, **extra_env):
    """Runs cmd, returns the CompletedProcess (text, stdout and stderr captured)."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=child_env(**extra_env))


def wattprof_run(script_args, timeout=300, json_path=None):
    """`wattprof run -q --json - -- /usr/bin/python3 ARGS...`: returns (the run's JSON
    as a dict, the CompletedProcess). The script must keep stdout for the JSON, unless
    json_path is given: then the JSON goes to that file and stdout is the script's."""
    p = run([os.environ["WATTPROF"], "run", "-q", "--json", str(json_path or "-"), "--",
             PYTHON] + list(script_args), timeout=timeout)
    assert p.returncode == 0, "wattprof run failed (%d): %s" % (p.returncode, p.stderr)
    text = p.stdout
    if json_path:
        with open(json_path, encoding="utf-8") as f:
            text = f.read()
    try:
        return json.loads(text), p
    except ValueError:
        pytest.fail("not the run's JSON:\n%s\nstderr:\n%s" % (text, p.stderr))
