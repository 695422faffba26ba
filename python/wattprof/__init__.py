"""wattprof: measure the energy of a program from inside it (ctypes over libwattprof).

    import wattprof
    with wattprof.Tracker(label={"model": "resnet"}) as t:
        for epoch in range(5):
            with t.window("epoch", units=len(train_set), unit_name="samples"):
                train_one_epoch()
            t.metric("accuracy", evaluate())
    print(t.result().windows[0].energy_per_unit_j)

Under `wattprof run -- python train.py` the same code reports its windows, units and
metrics to the enclosing run (t.is_remote is True, t.result() is None). See
docs/python.md. Training-loop callbacks are in wattprof.callbacks.
"""
from . import callbacks
from .result import Record, Result
from .tracker import Tracker, Window, WattprofError, current, measure

__all__ = ["Tracker", "Window", "Result", "Record", "WattprofError", "current", "measure",
           "version", "library_path", "callbacks"]


def version():
    """The version of the loaded libwattprof ("MAJOR.MINOR.PATCH")."""
    from . import _lib
    return _lib.load().wattprof_version().decode()


def library_path():
    """The file libwattprof was loaded from."""
    from . import _lib
    return _lib.path()
