"""Under `wattprof run`: the same Python calls report their windows, units and metrics
to the enclosing run (WATTPROF_CONTROL), which measures; the script's result() is None."""
import json
import os

import pytest

from helpers import wattprof_run

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def remote():
    run, p = wattprof_run([os.path.join(HERE, "workloads", "windows.py")])
    seen = json.loads(p.stderr.strip().splitlines()[-1])
    return run, seen


def by_name(run, name):
    return [w for w in run["windows"] if w["name"] == name]


def test_script_knows_it_is_remote(remote):
    _, seen = remote
    assert seen["remote"] is True
    assert seen["result"] is None and seen["json"] is None
    assert seen["alone_result"] is None
    assert seen["labels"] == {"model": "remote"}
    assert seen["decorated"] == 14 and seen["alone"] == 6


def test_nan_metric_raises_in_the_script(remote):
    _, seen = remote
    assert seen["nan_error"] == "metric 'accuracy' is not a finite number"


def test_windows_in_the_run_json(remote):
    run, _ = remote
    names = [w["name"] for w in run["windows"]]
    assert names == ["outer", "epoch", "decorated", "epoch", "left-open", "decorated"]
    outer, epoch = by_name(run, "outer")[0], by_name(run, "epoch")[0]
    assert outer["start_s"] <= epoch["start_s"] < epoch["end_s"] <= outer["end_s"]
    assert epoch["end_s"] - epoch["start_s"] == pytest.approx(0.2, abs=0.1)
    assert (epoch["units"], epoch["unit_name"]) == (1000, "samples")
    assert epoch["energy_j"] > 0
    assert epoch["energy_per_unit_j"] == pytest.approx(epoch["attributed_energy_j"] / 1000,
                                                       abs=2e-6)
    assert epoch["metrics"] == {"accuracy": 0.75}
    for w in run["windows"]:
        assert w["complete"] is (w["name"] != "left-open")
        assert set(w) >= {"name", "start_s", "end_s", "energy_j", "attributed_energy_j",
                          "units", "unit_name", "energy_per_unit_j", "metrics", "channels",
                          "complete"}
        assert [c["name"] for c in w["channels"]] == [c["name"] for c in run["channels"]]


def test_decorator_and_loop_callback_in_the_run(remote):
    run, _ = remote
    dec = by_name(run, "decorated")
    assert [(w["units"], w["unit_name"]) for w in dec] == [(7, "items"), (3, "items")]
    loop_epoch = by_name(run, "epoch")[1]
    assert (loop_epoch["units"], loop_epoch["unit_name"]) == (5, "samples")
    assert loop_epoch["metrics"] == {"loss": 0.5}


def test_run_metrics_and_units(remote):
    run, _ = remote
    assert run["metrics"] == {"accuracy": 0.8, "loss": 0.5}
    assert (run["units"], run["unit_name"]) == (1000, "samples")


def test_no_protocol_errors(remote):
    run, _ = remote
    assert not [w for w in run["warnings"] if "control" in w], run["warnings"]
