"""A workload for test_remote.py: the same calls as in-process, under `wattprof run`.
Prints one JSON line on stderr (stdout is the run's JSON): what the binding saw."""
import json
import sys
import time

import wattprof


def burn(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@wattprof.measure("decorated", units=lambda n: n, unit_name="items")
def decorated(n):
    burn(0.05)
    return n * 2


seen = {}
with wattprof.Tracker(label={"model": "remote"}) as t:
    seen["remote"] = t.is_remote
    outer = t.begin("outer")
    with t.window("epoch", units=1000, unit_name="samples") as w:
        burn(0.2)
    w.metric("accuracy", 0.75)
    outer.end()
    seen["decorated"] = decorated(7)
    loop = wattprof.callbacks.TorchLoop()
    for batch in loop.epoch([[1, 2, 3], [4, 5]]):
        burn(0.02)
    loop.metric("loss", 0.5)
    loop.close()
    t.metric("accuracy", 0.8)
    t.set_units(1000, "samples")
    try:
        t.metric("accuracy", float("nan"))
    except wattprof.WattprofError as e:
        seen["nan_error"] = str(e)
    t.begin("left-open")
seen["alone"] = decorated(3)  # no current tracker: the call opens its own
seen["alone_result"] = decorated.last_result
seen["result"] = t.result()
seen["json"] = t.json()
seen["labels"] = t.labels
print(json.dumps(seen), file=sys.stderr)
