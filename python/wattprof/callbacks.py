"""Epoch windows for training loops: a plain PyTorch loop, PyTorch Lightning and the
Hugging Face Trainer.

Each callback opens a window per training epoch (name "epoch" by default) whose units
are the samples trained in it, and records the loop's metrics on that window and on the
run (the latest value). Nothing here imports torch, Lightning or transformers at import
time; LightningCallback() and HFCallback() import the framework's base class only when
called (and fall back to a plain object when it is not installed, which is enough for
duck-typed trainers).

The window goes on `tracker` when given, else on wattprof.current() when a Tracker is
active, else on a Tracker the callback opens at the start of training and closes at
its end; its Result is then in callback.result (None when remote).

Metrics that are not finite numbers (a NaN loss) are skipped, and one the library
refuses gives a warning: recording metrics never stops training. Characters outside
[A-Za-z0-9_.:/-] in a metric name become "_".
"""
import importlib
import math
import re
import sys
import warnings

from .tracker import Tracker, WattprofError, current

_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.:/-]")


def batch_size(batch):
    """The number of samples in a batch: the first dimension of a tensor or array; for
    a tuple/list/dict, that of its first tensor-like member (an (x, y) pair), else its
    length; None when unknown."""
    shape = getattr(batch, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if isinstance(batch, dict) and batch:
        return batch_size(next(iter(batch.values())))
    if isinstance(batch, (list, tuple)) and batch:
        first = batch[0]
        if hasattr(first, "shape") or isinstance(first, (list, tuple, dict)):
            n = batch_size(first)
            if n is not None:
                return n
        return len(batch)
    try:
        return len(batch)
    except TypeError:
        return None


def _number(value):
    try:
        v = float(value)
    except Exception:  # strings, multi-element tensors: not a metric, never an error
        return None
    return v if math.isfinite(v) else None


class EpochRecorder:
    """What every callback does, framework-free: train_begin, epoch_begin,
    batch_end(batch or n), epoch_end(metrics), metrics(dict), train_end."""

    def __init__(self, tracker=None, window="epoch", unit_name="samples", label=None):
        self.tracker = tracker
        self.window_name = window
        self.unit_name = unit_name
        self.label = label
        self.result = None
        self.epochs = []  # the Windows of the epochs, in order
        self._t = None
        self._own = None
        self._window = None
        self._units = 0
        self._unknown_batches = 0

    def train_begin(self):
        if self._t is not None and not self._t.closed:
            return
        t = self.tracker or current()
        if t is None or t.closed:
            t = self._own = Tracker(label=self.label).start()
        self._t = t

    def epoch_begin(self):
        self.train_begin()
        if self._window is not None:
            self.epoch_end()
        self._units = 0
        self._unknown_batches = 0
        self._window = self._t.begin(self.window_name)
        self.epochs.append(self._window)

    def batch_end(self, batch=None, n=None):
        if n is None:
            n = batch_size(batch)
        if n is None:
            self._unknown_batches += 1
        else:
            self._units += n

    def epoch_end(self, metrics=None):
        w = self._window
        if w is None:
            return
        self._window = None
        w.end()
        if self._unknown_batches:
            # some batch had no size: count batches rather than report too few samples
            w.set_units(self._unknown_batches + self._units, "batches")
        elif self._units > 0:
            w.set_units(self._units, self.unit_name)
        if metrics:
            self.metrics(metrics)

    def metrics(self, metrics):
        """Records a dict of metrics on the current (or last) epoch window and on the
        run. Values that are not finite numbers are skipped."""
        if self._t is None or self._t.closed:
            return
        w = self._window or (self.epochs[-1] if self.epochs else None)
        for name, value in dict(metrics).items():
            v = _number(value)
            if v is None or not name:
                continue
            name = _BAD_NAME_CHARS.sub("_", str(name))[:64]
            try:
                if w is not None:
                    w.metric(name, v)
                self._t.metric(name, v)
            except WattprofError as e:  # e.g. more than 64 metrics: warn, keep training
                warnings.warn("wattprof: metric '%s' not recorded: %s" % (name, e))

    def metric(self, name, value):
        self.metrics({name: value})

    def train_end(self):
        if self._window is not None:
            self.epoch_end()
        own, self._own = self._own, None
        if own is not None:
            own.close()
            self.result = own.result()
        self._t = None


class TorchLoop(EpochRecorder):
    """For a hand-written PyTorch loop:

        loop = TorchLoop()                       # or TorchLoop(tracker)
        for epoch in range(epochs):
            for x, y in loop.epoch(train_loader):  # one window; counts len(x) samples
                ...
            loop.metric("accuracy", evaluate())
        loop.close()                             # loop.result when it opened a Tracker

    The hooks are there too: on_train_begin(), on_epoch_begin(), on_batch_end(batch),
    on_epoch_end(metrics=None), on_train_end().
    """

    def epoch(self, batches):
        """Iterates over batches inside one epoch window, counting their samples."""
        self.epoch_begin()
        try:
            for batch in batches:
                yield batch
                self.batch_end(batch)
        finally:
            self.epoch_end()

    def close(self):
        self.train_end()

    def __enter__(self):
        self.train_begin()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    on_train_begin = EpochRecorder.train_begin
    on_epoch_begin = EpochRecorder.epoch_begin
    on_batch_end = EpochRecorder.batch_end
    on_epoch_end = EpochRecorder.epoch_end
    on_train_end = EpochRecorder.train_end


def _framework_base(modules):
    """The Callback base class of the first of modules already imported, else of the
    first importable one, else object."""
    for mod, attr in modules:
        if mod in sys.modules:
            return getattr(sys.modules[mod], attr)
    for mod, attr in modules:
        try:
            return getattr(importlib.import_module(mod), attr)
        except ImportError:
            continue
    return object


_classes = {}


def _subclass(name, hooks, modules):
    base = _framework_base(modules)
    key = (hooks, base)
    if key not in _classes:
        bases = (hooks,) if base is object else (hooks, base)
        _classes[key] = type(name, bases, {"__module__": __name__})
    return _classes[key]


class _LightningHooks(EpochRecorder):
    def __init__(self, tracker=None, window="epoch", unit_name="samples", label=None):
        EpochRecorder.__init__(self, tracker, window, unit_name, label)

    def on_fit_start(self, trainer, pl_module):
        self.train_begin()

    def on_train_epoch_start(self, trainer, pl_module):
        self.epoch_begin()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *args):
        self.batch_end(batch)

    def on_train_epoch_end(self, trainer, pl_module):
        self.epoch_end(getattr(trainer, "callback_metrics", None))

    def on_fit_end(self, trainer, pl_module):
        self.train_end()

    def on_exception(self, trainer, pl_module, exception):
        self.train_end()


def LightningCallback(tracker=None, window="epoch", unit_name="samples", label=None):
    """A PyTorch Lightning callback (subclass of lightning.pytorch.Callback, or of
    pytorch_lightning.Callback, whichever the program uses): one window per training
    epoch, units = samples (first dimension of each batch), metrics =
    trainer.callback_metrics at the end of each epoch.

        trainer = L.Trainer(callbacks=[wattprof.callbacks.LightningCallback()])
    """
    cls = _subclass("WattprofLightningCallback", _LightningHooks,
                    [("lightning.pytorch", "Callback"), ("pytorch_lightning", "Callback")])
    return cls(tracker, window, unit_name, label)


class _HFHooks(EpochRecorder):
    def __init__(self, tracker=None, window="epoch", unit_name="samples", label=None):
        EpochRecorder.__init__(self, tracker, window, unit_name, label)
        self._step0 = 0

    @staticmethod
    def _samples_per_step(args):
        try:
            return int(args.train_batch_size * args.gradient_accumulation_steps *
                       getattr(args, "world_size", 1))
        except (AttributeError, TypeError, ValueError):
            return None

    def on_train_begin(self, args, state, control, **kwargs):
        self.train_begin()

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.epoch_begin()
        self._step0 = getattr(state, "global_step", 0)

    def on_epoch_end(self, args, state, control, **kwargs):
        steps = getattr(state, "global_step", 0) - self._step0
        per_step = self._samples_per_step(args)
        if steps > 0 and per_step:
            self.batch_end(n=steps * per_step)
        elif steps > 0:
            self._unknown_batches += steps  # reported as "batches" (optimizer steps)
        self.epoch_end()

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics:
            self.metrics(metrics)

    def on_train_end(self, args, state, control, **kwargs):
        self.train_end()


def HFCallback(tracker=None, window="epoch", unit_name="samples", label=None):
    """A Hugging Face transformers TrainerCallback: one window per training epoch,
    units = optimizer steps x train_batch_size x gradient_accumulation_steps x
    world_size (an upper bound when the last batch is short), metrics from each
    evaluation (on the last epoch window and the run).

        trainer = Trainer(..., callbacks=[wattprof.callbacks.HFCallback()])
    """
    cls = _subclass("WattprofHFCallback", _HFHooks, [("transformers", "TrainerCallback")])
    return cls(tracker, window, unit_name, label)
