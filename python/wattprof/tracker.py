"""Tracker, windows, metrics and the measure decorator: the Python face of the C
tracker (wattprof_tracker_* in wattprof.h).

Under `wattprof run` (WATTPROF_CONTROL set) the C tracker reports windows, units and
metrics to the enclosing run, which measures; otherwise it measures in this process.
The calls are the same either way; only result() differs (None when remote).
"""
import ctypes
import errno
import functools
import inspect
import re
import threading
import weakref

from . import _lib
from .result import Result


class WattprofError(Exception):
    """A call into libwattprof failed. str(e) is the library's message
    (wattprof_tracker_errmsg); e.code is the negative errno the call returned and
    e.errno its positive value."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.errno = -code
        self.message = message


# Trackers started and not yet closed, innermost last: current() reads it. Process-wide
# (not per thread) so that windows opened from worker threads find the tracker.
_active = []
_active_lock = threading.Lock()


def current():
    """The innermost started Tracker that is not closed yet, or None."""
    with _active_lock:
        return _active[-1] if _active else None


def _cstr(value, what, optional=False):
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    if "\0" in value:
        raise ValueError("%s must not contain NUL characters" % what)
    return value.encode("utf-8")


def _free_tracker(lib, handle):
    lib.wattprof_tracker_free(handle)


class Tracker:
    """Measures a program from inside, or reports to the enclosing `wattprof run`.

        with wattprof.Tracker(label={"model": "resnet"}) as t:
            with t.window("epoch", units=60000, unit_name="samples"):
                train_one_epoch()
            t.metric("accuracy", 0.97)
        t.result().windows[0].energy_per_unit_j

    label: a dict kept on this object and copied into result().labels. Labels are
    not yet sent to an enclosing `wattprof run` (the C API has no labels yet).
    The tracker starts on `with` or start() and stops on leaving `with` or close().
    Calls are serialised by a lock, so threads may share a tracker.
    Errors raise WattprofError with the library's message.
    """

    def __init__(self, label=None):
        if label is not None and not isinstance(label, dict):
            raise TypeError("label must be a dict, not %s" % type(label).__name__)
        self.labels = dict(label or {})
        self._lib = None
        self._t = None  # ctypes.c_void_p of the C tracker
        self._state = "new"  # "open", then "closed"
        self._remote = False
        self._lock = threading.Lock()
        self._json = None
        self._finalizer = None

    # ---- life cycle -------------------------------------------------------------------

    def start(self):
        """Opens the C tracker: connects to the enclosing run, or opens the sensors and
        starts measuring. Returns self. Raises WattprofError when that fails, or when
        the tracker was started before."""
        if self._state != "new":
            raise WattprofError(-errno.EALREADY, "tracker already started")
        lib = _lib.load()
        handle = ctypes.c_void_p()
        rc = lib.wattprof_tracker_open(ctypes.byref(handle))
        if not handle:
            raise WattprofError(rc, _lib_strerror(lib, rc))
        self._lib = lib
        self._t = handle
        self._finalizer = weakref.finalize(self, _free_tracker, lib, handle)
        if rc < 0:
            msg = self._errmsg() or _lib_strerror(lib, rc)
            self._finalizer()
            self._t = None
            self._state = "closed"
            raise WattprofError(rc, msg)
        self._remote = bool(lib.wattprof_tracker_is_remote(handle))
        self._state = "open"
        with _active_lock:
            _active.append(self)
        return self

    def close(self):
        """Stops measuring (in-process) or closes the connection (remote). Windows
        still open are closed and marked incomplete. Closing again does nothing."""
        if self._state != "open":
            return
        with _active_lock:
            if self in _active:
                _active.remove(self)
        with self._lock:
            self._state = "closed"
            rc = self._lib.wattprof_tracker_close(self._t)
            self._check(rc)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    @property
    def is_remote(self):
        """True when reporting to an enclosing `wattprof run`, False when measuring in
        this process. Valid once started."""
        return self._remote

    @property
    def closed(self):
        return self._state == "closed"

    # ---- windows, units, metrics ------------------------------------------------------

    def window(self, name, units=None, unit_name=None):
        """A window not begun yet, for `with`: it begins on entering and ends on
        leaving (also when an exception leaves it). units/unit_name, when given, are
        set when it begins."""
        return Window(self, name, units, unit_name)

    def begin(self, name, units=None, unit_name=None):
        """Begins a window now and returns it; end it with its end()."""
        return Window(self, name, units, unit_name).begin()

    def metric(self, name, value, window=None):
        """Records a metric on the run (or on window, a Window of this tracker). A
        later value of the same name replaces the earlier one. value must be a finite
        number (float() is applied: numpy scalars and 0-d tensors work)."""
        wid = 0 if window is None else window._require_id()
        self._call("wattprof_tracker_metric", wid, _cstr(name, "metric name"), float(value))

    def set_units(self, units, unit_name=None):
        """Units of work of the whole run (e.g. samples trained)."""
        self._call("wattprof_tracker_units", float(units),
                   _cstr(unit_name, "unit_name", optional=True))

    # ---- result -----------------------------------------------------------------------

    def json(self):
        """The run as JSON text (schema wattprof.run/1 with windows and metrics) after
        close; None when remote (the enclosing run holds it)."""
        if self._remote:
            return None
        if self._json is None:
            if self._state != "closed" or self._t is None:
                raise WattprofError(-errno.EINVAL, "no result before the tracker is closed")
            out = ctypes.c_void_p()
            with self._lock:
                rc = self._lib.wattprof_tracker_json(self._t, ctypes.byref(out))
                self._check(rc)
            try:
                self._json = ctypes.string_at(out).decode("utf-8")
            finally:
                self._lib.wattprof_free(out)
        return self._json

    def result(self):
        """The Result of the run after close (attribute access: result.energy_j,
        result.windows[0].energy_per_unit_j, result.metrics["accuracy"],
        result.labels); None when remote."""
        text = self.json()
        if text is None:
            return None
        return Result.from_json(text, self.labels)

    # ---- internals --------------------------------------------------------------------

    def _errmsg(self):
        raw = self._lib.wattprof_tracker_errmsg(self._t)
        return raw.decode("utf-8", "replace") if raw else ""

    def _check(self, rc):
        if rc < 0:
            raise WattprofError(rc, self._errmsg() or _lib_strerror(self._lib, rc))

    def _call(self, fn, *args):
        if self._t is None:
            raise WattprofError(-errno.EINVAL,
                                "tracker not started: use 'with Tracker()' or start()")
        with self._lock:
            rc = getattr(self._lib, fn)(self._t, *args)
            self._check(rc)

    def __repr__(self):
        mode = "remote" if self._remote else "in-process"
        return "<wattprof.Tracker %s %s labels=%r>" % (self._state, mode, self.labels)


def _lib_strerror(lib, rc):
    return lib.wattprof_strerror(rc).decode("utf-8", "replace")


class Window:
    """A named interval of a Tracker: begin()/end(), or `with`. Windows may nest and
    overlap. set_units() and metric() work while it is open and after it ended."""

    __slots__ = ("tracker", "name", "id", "_units", "_unit_name", "_ended")

    def __init__(self, tracker, name, units=None, unit_name=None):
        self.tracker = tracker
        self.name = name
        self.id = None  # the C window number once begun
        self._units = units
        self._unit_name = unit_name
        self._ended = False

    def begin(self):
        t = self.tracker
        if self.id is not None:
            raise WattprofError(-errno.EALREADY, "window '%s' already begun" % self.name)
        wid = ctypes.c_uint64()
        t._call("wattprof_tracker_window_begin", _cstr(self.name, "window name"),
                ctypes.byref(wid))
        self.id = wid.value
        if self._units is not None:
            self.set_units(self._units, self._unit_name)
        return self

    def end(self):
        """Ends the window now. Ending it again raises WattprofError."""
        self.tracker._call("wattprof_tracker_window_end", self._require_id())
        self._ended = True

    def set_units(self, units, unit_name=None):
        """Units of work done in this window (e.g. samples); energy_per_unit_j follows."""
        self.tracker._call("wattprof_tracker_window_units", self._require_id(),
                           float(units), _cstr(unit_name, "unit_name", optional=True))

    def metric(self, name, value):
        """Records a metric on this window (see Tracker.metric)."""
        self.tracker.metric(name, value, window=self)

    @property
    def ended(self):
        return self._ended

    def _require_id(self):
        if self.id is None:
            raise WattprofError(-errno.ENOENT, "window '%s' not begun" % self.name)
        return self.id

    def __enter__(self):
        return self.begin()

    def __exit__(self, exc_type, exc, tb):
        # Ended on an exception too: the energy up to there is right. The C API has
        # no way to mark such a window incomplete.
        if not self._ended and not self.tracker.closed:
            self.end()
        return False

    def __repr__(self):
        return "<wattprof.Window %r id=%s%s>" % (self.name, self.id,
                                                 " ended" if self._ended else "")


def _window_name(func):
    """A valid window name from a function's qualified name: Model.forward."""
    qualname = func.__qualname__.replace("<locals>.", "")
    return re.sub(r"[^A-Za-z0-9_.:/-]", "_", qualname)[-64:]


def measure(name=None, *, units=None, unit_name=None, label=None, tracker=None):
    """Decorator: each call of the function is a window.

        @wattprof.measure                  # window named after the function (Class.method)
        @wattprof.measure("train_step", units=lambda batch: len(batch), unit_name="samples")

    The window goes on `tracker`, else on the current one (the innermost started
    Tracker, see current()). When there is none, the call gets a Tracker of its own
    (with `label`), and its Result is left in wrapper.last_result (None when remote).
    units: a number, or a callable given the call's arguments that returns one.
    """
    if callable(name) and units is None and unit_name is None and label is None \
            and tracker is None:
        return measure()(name)
    if name is not None and not isinstance(name, str):
        raise TypeError("measure() name must be a str")

    def decorate(func):
        if inspect.isgeneratorfunction(func) or inspect.iscoroutinefunction(func) \
                or inspect.isasyncgenfunction(func):
            raise TypeError("wattprof.measure cannot time a generator or coroutine "
                            "function: use a Tracker window around its consumer")
        wname = name or _window_name(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            n = units(*args, **kwargs) if callable(units) else units
            t = tracker or current()
            if t is not None and not t.closed:
                with t.window(wname, n, unit_name):
                    return func(*args, **kwargs)
            with Tracker(label=label) as own:
                try:
                    with own.window(wname, n, unit_name):
                        return func(*args, **kwargs)
                finally:
                    own.close()
                    wrapper.last_result = own.result()

        wrapper.last_result = None
        return wrapper

    return decorate
