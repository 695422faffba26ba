"""Training-loop callbacks driven by fake, minimal trainers (neither Lightning nor
transformers is needed), and the promise that importing wattprof imports no framework."""
import importlib.util
import math
import sys
import types

import pytest

import wattprof
from wattprof.callbacks import (EpochRecorder, HFCallback, LightningCallback, TorchLoop,
                                batch_size)
from helpers import PYTHON, burn, run

FRAMEWORKS = ("torch", "lightning", "pytorch_lightning", "transformers")


class FakeTensor:
    """What the callbacks read of a tensor: shape, and float() for a 0-d one."""

    def __init__(self, *shape, value=0.0):
        self.shape = shape
        self.value = value

    def __float__(self):
        return float(self.value)


def test_importing_wattprof_imports_no_framework():
    code = ("import sys, wattprof, wattprof.callbacks\n"
            "from wattprof.callbacks import LightningCallback, HFCallback, TorchLoop\n"
            "print(' '.join(m for m in %r if m in sys.modules))" % (FRAMEWORKS,))
    p = run([PYTHON, "-c", code])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ""


def test_creating_callbacks_imports_only_installed_frameworks():
    code = ("import sys, wattprof.callbacks as c\n"
            "c.LightningCallback(); c.HFCallback(); c.TorchLoop()\n"
            "print(' '.join(m for m in %r if m in sys.modules))" % (FRAMEWORKS,))
    p = run([PYTHON, "-c", code])
    assert p.returncode == 0, p.stderr
    loaded = set(p.stdout.split())
    assert "torch" not in loaded  # never needed: batches are read by duck typing
    for name in loaded:
        assert importlib.util.find_spec(name) is not None, "%s imported but absent" % name


def test_batch_size():
    assert batch_size(FakeTensor(32, 64)) == 32
    assert batch_size((FakeTensor(16, 3), FakeTensor(16))) == 16
    assert batch_size({"input_ids": FakeTensor(8, 128), "labels": FakeTensor(8)}) == 8
    assert batch_size(([1, 2, 3], [0, 1, 0])) == 3  # (x, y) as two lists
    assert batch_size([1, 2, 3]) == 3
    assert batch_size([FakeTensor()]) == 1  # a list of 0-d tensors
    assert batch_size(object()) is None


class FakeLightningTrainer:
    """Calls the hooks in Lightning 2's order: validation runs before
    on_train_epoch_end and fills callback_metrics."""

    def __init__(self, callbacks, epochs=2, batches=3, batch=4):
        self.callbacks = callbacks
        self.epochs, self.batches, self.batch = epochs, batches, batch
        self.callback_metrics = {}

    def _hook(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(self, None, *args)

    def fit(self):
        self._hook("on_fit_start")
        for epoch in range(self.epochs):
            self._hook("on_train_epoch_start")
            for i in range(self.batches):
                burn(0.01)
                x, y = FakeTensor(self.batch, 64), FakeTensor(self.batch)
                self._hook("on_train_batch_end", {"loss": FakeTensor(value=1.0)}, (x, y), i)
            self.callback_metrics = {"val_acc": FakeTensor(value=0.5 + epoch / 10),
                                     "val loss": FakeTensor(value=0.25),
                                     "train_loss": FakeTensor(value=math.nan)}
            self._hook("on_train_epoch_end")
        self._hook("on_fit_end")


def test_lightning_callback_opens_its_own_tracker():
    cb = LightningCallback()
    assert isinstance(cb, EpochRecorder)
    FakeLightningTrainer([cb], epochs=2, batches=3, batch=4).fit()
    r = cb.result
    assert [w.name for w in r.windows] == ["epoch", "epoch"]
    assert [(w.units, w.unit_name) for w in r.windows] == [(12, "samples")] * 2
    assert r.windows[0].metrics == {"val_acc": 0.5, "val_loss": 0.25}  # NaN skipped
    assert r.windows[1].metrics["val_acc"] == pytest.approx(0.6)
    assert r.metrics == {"val_acc": pytest.approx(0.6), "val_loss": 0.25}
    assert all(w.complete and w.energy_j > 0 for w in r.windows)


def test_lightning_callback_on_the_current_tracker():
    with wattprof.Tracker() as t:
        with t.window("fit"):
            cb = LightningCallback(window="train-epoch", unit_name="images")
            FakeLightningTrainer([cb], epochs=1, batches=2, batch=5).fit()
        assert cb.result is None and not t.closed
    r = t.result()
    assert [w.name for w in r.windows] == ["fit", "train-epoch"]
    assert (r.windows[1].units, r.windows[1].unit_name) == (10, "images")


def test_lightning_exception_closes_own_tracker():
    cb = LightningCallback()
    cb.on_fit_start(None, None)
    cb.on_train_epoch_start(None, None)
    cb.on_exception(None, None, RuntimeError("x"))
    assert cb.result.windows[0].complete is True
    assert wattprof.current() is None


def test_lightning_subclasses_the_framework_callback(monkeypatch):
    fake = types.ModuleType("lightning.pytorch")

    class Callback:
        pass

    fake.Callback = Callback
    monkeypatch.setitem(sys.modules, "lightning.pytorch", fake)
    cb = LightningCallback()
    assert isinstance(cb, Callback) and isinstance(cb, EpochRecorder)


def hf_objects(batch=8, accum=2, world=1):
    args = types.SimpleNamespace(train_batch_size=batch, gradient_accumulation_steps=accum,
                                 world_size=world)
    state = types.SimpleNamespace(global_step=0, epoch=0)
    return args, state, types.SimpleNamespace()


def hf_train(cb, args, state, control, epochs=2, steps=3):
    """The Hugging Face Trainer's order: evaluation follows on_epoch_end."""
    cb.on_train_begin(args, state, control, model=None)
    for epoch in range(epochs):
        cb.on_epoch_begin(args, state, control)
        for _ in range(steps):
            burn(0.01)
            state.global_step += 1
        cb.on_epoch_end(args, state, control)
        cb.on_evaluate(args, state, control, metrics={"eval_loss": 0.5 - epoch / 10,
                                                      "eval_accuracy": 0.8 + epoch / 10,
                                                      "epoch": float(epoch + 1),
                                                      "eval_runtime": "n/a"})
    cb.on_train_end(args, state, control)


def test_hf_callback_counts_samples_and_records_eval_metrics():
    cb = HFCallback()
    hf_train(cb, *hf_objects(batch=8, accum=2), epochs=2, steps=3)
    r = cb.result
    assert [(w.name, w.units, w.unit_name) for w in r.windows] == [
        ("epoch", 48, "samples"), ("epoch", 48, "samples")]
    assert r.windows[0].metrics == {"eval_loss": 0.5, "eval_accuracy": 0.8, "epoch": 1.0}
    assert r.windows[1].metrics["eval_accuracy"] == pytest.approx(0.9)
    assert r.metrics["eval_accuracy"] == pytest.approx(0.9)


def test_hf_callback_without_batch_sizes_counts_steps():
    cb = HFCallback()
    args = types.SimpleNamespace()
    hf_train(cb, args, types.SimpleNamespace(global_step=0), types.SimpleNamespace(),
             epochs=1, steps=4)
    assert (cb.result.windows[0].units, cb.result.windows[0].unit_name) == (4, "batches")


def test_hf_subclasses_the_framework_callback(monkeypatch):
    fake = types.ModuleType("transformers")

    class TrainerCallback:
        def on_step_end(self, args, state, control, **kwargs):
            return "base"

    fake.TrainerCallback = TrainerCallback
    monkeypatch.setitem(sys.modules, "transformers", fake)
    cb = HFCallback()
    assert isinstance(cb, TrainerCallback)
    assert cb.on_step_end(None, None, None) == "base"


def test_torch_loop_iterator_and_break():
    with TorchLoop() as loop:
        for epoch in range(2):
            for x, y in loop.epoch([(FakeTensor(4, 2), FakeTensor(4))] * 3):
                burn(0.005)
            loop.metric("accuracy", 0.7 + epoch / 10)
        for i, batch in enumerate(loop.epoch([FakeTensor(2)] * 10)):
            if i == 1:
                break
    r = loop.result
    assert [(w.units, w.unit_name) for w in r.windows] == [(12, "samples"), (12, "samples"),
                                                           (2, "samples")]
    assert all(w.complete for w in r.windows)
    assert r.windows[1].metrics == {"accuracy": pytest.approx(0.8)}


def test_torch_loop_hooks_on_a_given_tracker():
    with wattprof.Tracker() as t:
        loop = TorchLoop(t, window="pass")
        loop.on_train_begin()
        loop.on_epoch_begin()
        loop.on_batch_end(FakeTensor(3, 1))
        loop.on_batch_end(n=7)
        loop.on_epoch_end(metrics={"loss": 0.1, "bad": None})
        loop.on_train_end()
        assert loop.result is None and not t.closed
    w = t.result().windows[0]
    assert (w.name, w.units, w.metrics) == ("pass", 10, {"loss": 0.1})


def test_metrics_never_stop_training():
    with TorchLoop() as loop:
        for _ in loop.epoch([FakeTensor(2)]):
            pass
        loop.metrics({"tensor": [1, 2], "text": "n/a", "nan": math.nan})
        with pytest.warns(UserWarning, match="metric 'm64' not recorded: more than 64 metrics"):
            loop.metrics({"m%d" % i: i for i in range(65)})
    assert len(loop.result.windows[0].metrics) == 64
