"""Finds libwattprof and declares the C functions the binding calls (ctypes).

The library is looked for, in order:
1. the file named by the environment variable WATTPROF_LIBRARY;
2. build/libwattprof.so of the source tree this package sits in (python/wattprof/);
3. the library installed beside this package (PREFIX/lib[/MULTIARCH]/libwattprof.so.0
   when the package is in PREFIX/lib/python3*/dist-packages);
4. the system's: ctypes.util.find_library("wattprof"), then "libwattprof.so.0".

Nothing is loaded at import time: load() does it on first use, so `import wattprof`
never fails for want of the library.
"""
import ctypes
import ctypes.util
import os
import sysconfig
import threading

_lock = threading.Lock()
_lib = None
_path = None

c_int = ctypes.c_int
c_double = ctypes.c_double
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_uint64 = ctypes.c_uint64
P_uint64 = ctypes.POINTER(ctypes.c_uint64)

# name: (restype, argtypes). The tracker is an opaque pointer (c_void_p).
PROTOTYPES = {
    "wattprof_version": (c_char_p, []),
    "wattprof_strerror": (c_char_p, [c_int]),
    "wattprof_free": (None, [c_void_p]),
    "wattprof_tracker_open": (c_int, [ctypes.POINTER(c_void_p)]),
    "wattprof_tracker_close": (c_int, [c_void_p]),
    "wattprof_tracker_free": (None, [c_void_p]),
    "wattprof_tracker_errmsg": (c_char_p, [c_void_p]),
    "wattprof_tracker_is_remote": (c_int, [c_void_p]),
    "wattprof_tracker_window_begin": (c_int, [c_void_p, c_char_p, P_uint64]),
    "wattprof_tracker_window_end": (c_int, [c_void_p, c_uint64]),
    "wattprof_tracker_window_units": (c_int, [c_void_p, c_uint64, c_double, c_char_p]),
    "wattprof_tracker_metric": (c_int, [c_void_p, c_uint64, c_char_p, c_double]),
    "wattprof_tracker_units": (c_int, [c_void_p, c_double, c_char_p]),
    "wattprof_tracker_json": (c_int, [c_void_p, ctypes.POINTER(c_void_p)]),
}


def _candidates():
    env = os.environ.get("WATTPROF_LIBRARY")
    if env:
        yield env
        return  # an explicit choice: never fall back to another library silently
    here = os.path.dirname(os.path.abspath(__file__))
    tree = os.path.dirname(os.path.dirname(here))
    if os.path.exists(os.path.join(tree, "meson.build")):
        yield os.path.join(tree, "build", "libwattprof.so")
    prefix = _install_prefix(here)
    if prefix:
        multiarch = sysconfig.get_config_var("MULTIARCH") or ""
        for sub in ("lib/" + multiarch, "lib64", "lib"):
            yield os.path.join(prefix, sub, "libwattprof.so.0")
    found = ctypes.util.find_library("wattprof")
    if found:
        yield found
    yield "libwattprof.so.0"


def _install_prefix(here):
    """PREFIX when this package sits in PREFIX/lib/python3*/(dist|site)-packages."""
    parts = here.split(os.sep)
    if len(parts) >= 5 and parts[-4] == "lib" and parts[-2].endswith("-packages"):
        return os.sep.join(parts[:-4]) or os.sep
    return None


def _declare(lib):
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)  # AttributeError: a library older than this binding
        fn.restype = restype
        fn.argtypes = argtypes


def load():
    """Returns the loaded library (a ctypes.CDLL with prototypes set); raises OSError
    naming every file tried when none loads, or one that lacks a function."""
    global _lib, _path
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for cand in _candidates():
            if os.sep in cand and not os.path.exists(cand):
                tried.append("%s: no such file" % cand)
                continue
            try:
                lib = ctypes.CDLL(cand)
            except OSError as e:
                tried.append(str(e))
                continue
            try:
                _declare(lib)
            except AttributeError as e:
                raise OSError("wattprof: '%s' is too old for this binding: %s" % (cand, e))
            _lib, _path = lib, cand
            return lib
        raise OSError("wattprof: cannot load libwattprof (build it with 'make', or set "
                      "WATTPROF_LIBRARY); tried: " + "; ".join(tried))


def path():
    """The file the library was loaded from (after load())."""
    load()
    return _path
