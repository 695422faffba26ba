"""examples/torch_digits.py on a tiny setting: in-process it prints per-epoch time,
energy, energy per sample and accuracy for FP32 and bf16; under `wattprof run` its
windows ("epoch", units = samples trained, metric "accuracy") are in the run's JSON."""
import importlib.util
import os
import re

import pytest

from helpers import PYTHON, ROOT, run, wattprof_run

EXAMPLE = os.path.join(ROOT, "examples", "torch_digits.py")
TINY = ["--epochs", "2", "--hidden", "16", "--batch", "64", "--lr", "0.01",
        "--precision", "both"]
TRAIN = 1438  # 1797 digits less 20 % (359) for the test split

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("sklearn") is None,
    reason="PyTorch or scikit-learn is not importable (apt-get install python3-torch "
           "python3-sklearn)")

NUM = r"(\d+\.\d+)"
EPOCH_LINE = re.compile(r"^(fp32|bf16)\s+(\d+)\s+%s\s+%s\s+%s\s+%s\s+%s$" % ((NUM,) * 5), re.M)


def test_in_process_table():
    p = run([PYTHON, EXAMPLE] + TINY, timeout=300)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^torch_digits: 64-16-10 MLP, %d train / 359 test samples, batch 64, "
                     r"2 epochs, .* measured in-process" % TRAIN, p.stdout, re.M), p.stdout
    rows = EPOCH_LINE.findall(p.stdout)
    assert [(r[0], int(r[1])) for r in rows] == [("fp32", 1), ("fp32", 2),
                                                 ("bf16", 1), ("bf16", 2)], p.stdout
    for _, _, seconds, energy, attributed, mj_per_sample, acc in rows:
        assert float(seconds) > 0 and float(energy) > 0
        assert float(attributed) <= float(energy) + 1e-3
        assert float(mj_per_sample) == pytest.approx(float(attributed) / TRAIN * 1e3,
                                                     abs=2e-3)
        assert 0 <= float(acc) <= 1
    for precision in ("fp32", "bf16"):  # about 0.78 after 2 tiny epochs
        last = [r for r in rows if r[0] == precision][-1]
        assert float(last[-1]) > 0.6, "%s did not learn: %s" % (precision, p.stdout)
    assert len(re.findall(r"^(fp32|bf16)\s+total ", p.stdout, re.M)) == 2


def test_under_wattprof_run_reports_windows(tmp_path):
    run_json, p = wattprof_run([EXAMPLE] + TINY[:-1] + ["bf16"], timeout=300,
                               json_path=tmp_path / "run.json")
    names = [w["name"] for w in run_json["windows"]]
    assert names == ["train-bf16", "epoch", "epoch"]
    for w in run_json["windows"][1:]:
        assert (w["units"], w["unit_name"]) == (TRAIN, "samples")
        assert 0 <= w["metrics"]["accuracy"] <= 1
        assert w["complete"] and w["energy_j"] > 0
    assert run_json["windows"][0]["units"] == 2 * TRAIN
    assert set(run_json["metrics"]) == {"accuracy_bf16"}
    assert (run_json["units"], run_json["unit_name"]) == (2 * TRAIN, "samples")
    assert "reporting to the enclosing wattprof run" in p.stdout
    assert re.findall(r"^bf16\s+(\d)\s+\d+\.\d+\s+-\s+-\s+-\s+[01]\.\d{4}$", p.stdout,
                      re.M) == ["1", "2"], p.stdout


def test_bad_option_exits_2():
    p = run([PYTHON, EXAMPLE, "--precision", "fp8"])
    assert p.returncode == 2 and "invalid choice" in p.stderr
