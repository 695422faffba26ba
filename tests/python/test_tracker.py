"""The binding in-process: a Tracker around CPU-burning loops, windows nested and
overlapping, units, metrics, the result object, and errors raised with the library's
message."""
import errno
import math
import threading

import pytest

import wattprof
from helpers import burn

# JSON numbers carry six decimals: a value read back is within this of the exact one.
ROUND = 1e-6


def included(result):
    return {c.name for c in result.channels if c.included_in_total}


def assert_window_consistent(result, w):
    assert w.start_s <= w.end_s <= result.duration_s + ROUND
    assert w.energy_j >= 0
    assert 0 <= w.attributed_energy_j <= w.energy_j + ROUND
    total = sum(c.energy_j for c in w.channels if c.name in included(result))
    assert total == pytest.approx(w.energy_j, abs=len(w.channels) * ROUND)
    assert [c.name for c in w.channels] == [c.name for c in result.channels]
    if w.units is None:
        assert w.unit_name is None and w.energy_per_unit_j is None
    else:
        assert w.energy_per_unit_j == pytest.approx(w.attributed_energy_j / w.units,
                                                    rel=1e-6, abs=2 * ROUND)


@pytest.fixture(scope="module")
def nested_run():
    """outer [...........]
         inner   [...]
         overlap      [.........]      (begins inside outer, ends after it)
         units  [..]                   (units and metrics)"""
    with wattprof.Tracker(label={"model": "burn", "size": 3}) as t:
        assert not t.is_remote
        assert wattprof.current() is t
        with t.window("units", units=1000, unit_name="samples") as u:
            burn(0.15)
        u.metric("accuracy", 0.5)
        u.metric("accuracy", 0.75)  # a later value replaces the earlier one
        u.metric("loss", 1.25)
        outer = t.begin("outer")
        burn(0.1)
        with t.window("inner") as inner:
            burn(0.15)
        inner.set_units(3)
        burn(0.1)
        overlap = t.begin("overlap")
        burn(0.1)
        outer.end()
        burn(0.1)
        overlap.end()
        t.metric("accuracy", 0.9)
        t.set_units(1000, "samples")
        left_open = t.begin("left-open")
        burn(0.05)
    assert wattprof.current() is None
    return t, t.result(), dict(units=u, outer=outer, inner=inner, overlap=overlap,
                               left_open=left_open)


def test_windows_in_begin_order_with_ids(nested_run):
    t, r, w = nested_run
    assert [x.name for x in r.windows] == ["units", "outer", "inner", "overlap", "left-open"]
    assert [x.id for x in r.windows] == [w[k].id for k in ("units", "outer", "inner",
                                                           "overlap", "left_open")]
    assert [x.id for x in r.windows] == [1, 2, 3, 4, 5]


def test_every_window_consistent(nested_run):
    t, r, _ = nested_run
    for w in r.windows:
        assert_window_consistent(r, w)


def test_nested_window_inside_outer(nested_run):
    _, r, _ = nested_run
    outer, inner = r.windows[1], r.windows[2]
    assert outer.start_s < inner.start_s < inner.end_s < outer.end_s
    assert inner.end_s - inner.start_s == pytest.approx(0.15, abs=0.1)
    assert inner.energy_j <= outer.energy_j + ROUND
    for ci, co in zip(inner.channels, outer.channels):
        assert ci.energy_j <= co.energy_j + ROUND


def test_overlapping_window(nested_run):
    _, r, _ = nested_run
    outer, overlap = r.windows[1], r.windows[3]
    assert outer.start_s < overlap.start_s < outer.end_s < overlap.end_s
    assert overlap.end_s - overlap.start_s == pytest.approx(0.2, abs=0.1)


def test_burning_windows_use_energy(nested_run):
    _, r, _ = nested_run
    for w in r.windows[:4]:
        assert w.energy_j > 0, w.to_dict()
        assert w.complete is True
    assert sum(w.energy_j for w in r.windows[:1]) <= r.energy_j + ROUND


def test_units_and_energy_per_unit(nested_run):
    _, r, _ = nested_run
    u, inner, outer = r.windows[0], r.windows[2], r.windows[1]
    assert (u.units, u.unit_name) == (1000, "samples")
    assert (inner.units, inner.unit_name) == (3, "units")
    assert outer.units is None and outer.energy_per_unit_j is None
    assert u.energy_per_unit_j == pytest.approx(u.attributed_energy_j / 1000, abs=2 * ROUND)
    assert (r.units, r.unit_name) == (1000, "samples")
    assert r.energy_per_unit_j == pytest.approx(r.attributed_energy_j / 1000, abs=2 * ROUND)


def test_metrics_on_window_and_run(nested_run):
    _, r, _ = nested_run
    assert r.windows[0].metrics == {"accuracy": 0.75, "loss": 1.25}
    assert r.windows[1].metrics == {}
    assert r.metrics == {"accuracy": 0.9}


def test_window_open_at_close_is_incomplete(nested_run):
    _, r, _ = nested_run
    last = r.windows[4]
    assert last.complete is False
    assert last.end_s == pytest.approx(r.duration_s, abs=0.05)


def test_result_object_mirrors_json(nested_run):
    t, r, _ = nested_run
    assert r.schema == "wattprof.run/1"
    assert r["energy_j"] == r.energy_j > 0
    assert r.channels[0].name and isinstance(r.channels[0].energy_j, float)
    assert r.labels == {"model": "burn", "size": 3}
    assert r.to_dict()["windows"][0]["name"] == "units"
    assert "windows" in r and "nope" not in r
    with pytest.raises(AttributeError, match="no member 'nope'"):
        r.nope
    assert t.json().startswith("{")
    assert isinstance(wattprof.Result.from_json(t.json()), wattprof.Result)


def test_labels_are_copied():
    labels = {"model": "a"}
    t = wattprof.Tracker(label=labels)
    labels["model"] = "b"
    assert t.labels == {"model": "a"}
    with pytest.raises(TypeError):
        wattprof.Tracker(label=["model"])


def test_errors_carry_the_library_message():
    with wattprof.Tracker() as t:
        with pytest.raises(wattprof.WattprofError) as e:
            t.begin("")
        assert e.value.code == -errno.EINVAL and e.value.errno == errno.EINVAL
        assert str(e.value).startswith("invalid window name ''")

        with pytest.raises(wattprof.WattprofError, match="invalid window name 'two words'"):
            t.begin("two words")

        for bad in (float("nan"), float("inf"), -math.inf):
            with pytest.raises(wattprof.WattprofError,
                               match="metric 'accuracy' is not a finite number") as e:
                t.metric("accuracy", bad)
            assert e.value.code == -errno.EINVAL

        w = t.begin("epoch")
        w.end()
        with pytest.raises(wattprof.WattprofError, match=r"window \d+ \('epoch'\) has already "
                                                         "ended") as e:
            w.end()
        assert e.value.code == -errno.EALREADY

        with pytest.raises(wattprof.WattprofError, match="invalid metric name 'a b'"):
            w.metric("a b", 1)
        with pytest.raises(wattprof.WattprofError, match="units must be a finite number > 0"):
            w.set_units(0)
        ghost = wattprof.Window(t, "ghost")
        ghost.id = 999
        with pytest.raises(wattprof.WattprofError, match="no window 999") as e:
            ghost.end()
        assert e.value.code == -errno.ENOENT
        with pytest.raises(TypeError):
            t.begin(None)
        with pytest.raises(ValueError):
            t.begin("nul\0byte")
    with pytest.raises(wattprof.WattprofError, match="the tracker is closed"):
        t.begin("late")
    t.close()  # closing again does nothing


def test_result_before_close_and_start_twice():
    t = wattprof.Tracker()
    with pytest.raises(wattprof.WattprofError, match="not started"):
        t.begin("x")
    t.start()
    with pytest.raises(wattprof.WattprofError, match="no result before"):
        t.result()
    with pytest.raises(wattprof.WattprofError, match="already started"):
        t.start()
    t.close()
    assert t.result().windows == []


def test_exception_in_window_ends_it():
    with wattprof.Tracker() as t:
        with pytest.raises(RuntimeError):
            with t.window("failing") as w:
                raise RuntimeError("boom")
        assert w.ended
    r = t.result()
    assert r.windows[0].name == "failing" and r.windows[0].complete is True


def test_two_trackers_are_independent():
    with wattprof.Tracker() as a:
        with wattprof.Tracker() as b:
            assert wattprof.current() is b
            with b.window("b"):
                burn(0.02)
        assert wattprof.current() is a
        with a.window("a"):
            burn(0.02)
    assert [w.name for w in a.result().windows] == ["a"]
    assert [w.name for w in b.result().windows] == ["b"]


def test_threads_share_a_tracker():
    with wattprof.Tracker() as t:
        def work(i):
            for _ in range(20):
                with t.window("thread-%d" % i) as w:
                    burn(0.001)
                w.metric("i", i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    r = t.result()
    assert len(r.windows) == 80
    assert sorted({w.id for w in r.windows}) == list(range(1, 81))
    assert all(w.complete and w.metrics["i"] == int(w.name[-1]) for w in r.windows)


def test_start_failures_raise_with_the_library_message(monkeypatch):
    monkeypatch.setenv("WATTPROF_CONTROL", "/nonexistent/control")
    t = wattprof.Tracker()
    with pytest.raises(wattprof.WattprofError, match="cannot connect to the enclosing "
                                                     "wattprof run at '/nonexistent/control'"):
        t.start()
    assert t.closed and wattprof.current() is None
    monkeypatch.delenv("WATTPROF_CONTROL")
    monkeypatch.setenv("WATTPROF_SYSFS", "/nonexistent")
    monkeypatch.setenv("WATTPROF_PROCFS", "/nonexistent")
    with pytest.raises(wattprof.WattprofError, match="no sensor can be read") as e:
        wattprof.Tracker().start()
    assert e.value.code == -errno.ENODEV
    assert "cannot read '/nonexistent/stat'" in str(e.value)
