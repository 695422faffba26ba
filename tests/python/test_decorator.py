"""wattprof.measure: each call a window, on the current Tracker or on its own."""
import pytest

import wattprof
from helpers import burn


@wattprof.measure
def plain(x):
    burn(0.02)
    return x + 1


@wattprof.measure("step", units=lambda batch: len(batch), unit_name="samples")
def step(batch):
    burn(0.02)
    return sum(batch)


def test_window_on_the_current_tracker():
    with wattprof.Tracker() as t:
        assert plain(1) == 2
        assert step([1, 2, 3]) == 6
        assert step([4]) == 4
    r = t.result()
    assert [w.name for w in r.windows] == ["plain", "step", "step"]
    assert [w.units for w in r.windows] == [None, 3, 1]
    assert r.windows[1].unit_name == "samples"
    assert all(w.complete and w.energy_j > 0 for w in r.windows)
    assert plain.last_result is None  # it used t, not a tracker of its own


def test_call_without_tracker_measures_itself():
    assert wattprof.current() is None
    assert step([1, 2]) == 3
    r = step.last_result
    assert isinstance(r, wattprof.Result)
    assert [w.name for w in r.windows] == ["step"]
    assert r.windows[0].units == 2
    assert r.windows[0].energy_per_unit_j == pytest.approx(
        r.windows[0].attributed_energy_j / 2, abs=2e-6)


def test_explicit_tracker_and_label():
    with wattprof.Tracker() as a, wattprof.Tracker() as b:
        @wattprof.measure(tracker=a)
        def on_a():
            return "a"

        assert wattprof.current() is b
        assert on_a() == "a"
    assert [w.name for w in a.result().windows] == [
        "test_explicit_tracker_and_label.on_a"]
    assert b.result().windows == []

    @wattprof.measure("labelled", label={"run": 1})
    def labelled():
        return None

    labelled()
    assert labelled.last_result.labels == {"run": 1}


def test_exception_propagates_and_window_ends():
    @wattprof.measure("fails")
    def fails():
        raise KeyError("x")

    with wattprof.Tracker() as t:
        with pytest.raises(KeyError):
            fails()
    assert t.result().windows[0].complete is True
    with pytest.raises(KeyError):
        fails()
    assert fails.last_result.windows[0].name == "fails"


def test_keeps_the_function_metadata():
    assert plain.__name__ == "plain" and step.__wrapped__.__name__ == "step"


def test_refuses_generators_and_coroutines():
    with pytest.raises(TypeError, match="generator or coroutine"):
        @wattprof.measure
        def gen():
            yield 1

    with pytest.raises(TypeError, match="generator or coroutine"):
        @wattprof.measure("c")
        async def coro():
            return 1
