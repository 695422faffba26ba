"""The result of a measured run, read from the run JSON (docs/json-schema.md).

Members keep the JSON names, units included: result.energy_j, result.duration_s,
result.windows[0].energy_per_unit_j, result.channels[0].name. Objects of the schema
become Records (attribute access, and item access too); objects whose keys are chosen
by the workload (`metrics`, `labels`) stay dicts: result.metrics["accuracy"].
"""
import json

# Members whose keys are names chosen by the user, not schema members.
_MAPS = frozenset(("metrics", "labels"))


class Record:
    """A JSON object with attribute access. r.name or r["name"]; to_dict() gives the
    plain data back."""

    __slots__ = ("_data",)

    def __init__(self, data):
        object.__setattr__(self, "_data", {k: _wrap(k, v) for k, v in data.items()})

    def __getattr__(self, name):
        if name.startswith("__") or name == "_data":  # copy/pickle probing a bare object
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError("%s has no member '%s' (members: %s)" % (
                type(self).__name__, name, ", ".join(self._data))) from None

    def __setattr__(self, name, value):
        raise AttributeError("%s is read-only" % type(self).__name__)

    def __getitem__(self, name):
        return self._data[name]

    def __contains__(self, name):
        return name in self._data

    def __iter__(self):
        return iter(self._data)

    def __dir__(self):
        return list(self._data) + ["to_dict"]

    def __eq__(self, other):
        return isinstance(other, Record) and self.to_dict() == other.to_dict()

    def __repr__(self):
        keys = [k for k in ("name", "energy_j", "duration_s", "units", "unit_name")
                if k in self._data]
        inner = ", ".join("%s=%r" % (k, self._data[k]) for k in keys)
        return "%s(%s)" % (type(self).__name__, inner)

    def to_dict(self):
        return {k: _unwrap(v) for k, v in self._data.items()}


class Result(Record):
    """A whole run: the members of the run JSON plus `labels` (given to the Tracker;
    kept in Python only, not yet sent to an enclosing `wattprof run`)."""

    __slots__ = ()

    @classmethod
    def from_json(cls, text, labels=None):
        data = json.loads(text)
        data["labels"] = dict(labels or {})
        return cls(data)

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)


def _wrap(key, value):
    if key in _MAPS and isinstance(value, dict):
        return dict(value)
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(None, v) for v in value]
    return value


def _unwrap(value):
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return dict(value)
    return value
