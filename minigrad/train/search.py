"""Hyperparameter search, the lectures' steps 4-5: a grid or log-uniform random trials, resumable.

    space = {"lr": log_uniform(1e-4, 1e-1), "weight_decay": log_uniform(1e-4, 1e-1)}
    result = search(space, train_fn, mode="random", trials=20, results_path="search.json")
    result.best_params          # {"lr": ..., "weight_decay": ...}

A space maps each keyword of ``train_fn`` to one of:

- a list or tuple of values: the grid's values, or (random search) picked uniformly;
- ``log_uniform(low, high, num=None)``: random search draws exp(U(log low, log high)) -- every
  decade equally likely, the lectures' "log-uniform on [1e-4, 1e-1]"; a grid takes ``num`` points
  spaced evenly on the log scale (``num=4`` gives 1e-4, 1e-3, 1e-2, 1e-1);
- ``uniform(low, high, num=None)``: the same on a linear scale;
- a single number, string or bool: held fixed.

Why random beats grid (the lectures' picture): with 9 trials a 3×3 grid tries only 3 values of
the parameter that matters; 9 random trials try 9.

``train_fn(**params)`` returns a score (higher is better unless ``maximize=False``) or a dict with
a ``"score"`` and anything else worth keeping (JSON-friendly numbers, strings, lists). Trials run
one after another. With ``results_path`` every finished trial is written to a JSON file at once,
atomically (a temporary file, fsync, rename); run the same search again after an interruption and
the trials already in the file are not recomputed (nor is a point drawn twice). Random trials depend only on ``seed`` and
their index, so raising ``trials`` continues a search, and a refined grid reuses the points it
shares with the old one.
"""
from __future__ import annotations

import itertools
import json
import math
import numbers
import os
import time
from dataclasses import dataclass

import numpy as np

from ..core.files import atomic_write, refuse_folder

FORMAT = "minigrad-search"


@dataclass(frozen=True)
class LogUniform:
    low: float
    high: float
    num: int | None = None

    def grid(self):
        return [float(v) for v in np.geomspace(self.low, self.high, self.num)]

    def sample(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __str__(self):
        return f"log_uniform({self.low:g}, {self.high:g}" + (f", num={self.num})" if self.num else ")")


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float
    num: int | None = None

    def grid(self):
        return [float(v) for v in np.linspace(self.low, self.high, self.num)]

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def __str__(self):
        return f"uniform({self.low:g}, {self.high:g}" + (f", num={self.num})" if self.num else ")")


def log_uniform(low, high, num=None):
    """A range sampled evenly on the log scale (random search), or ``num`` geometric grid points."""
    _check_range("log_uniform", low, high, num)
    if low <= 0:
        raise ValueError(f"log_uniform: both bounds must be positive (the log of {low!r} is undefined); "
                         f"got low={low!r}, high={high!r}; for a range that includes 0 use uniform()")
    return LogUniform(float(low), float(high), num)


def uniform(low, high, num=None):
    """A range sampled evenly on the linear scale (random search), or ``num`` evenly spaced grid points."""
    _check_range("uniform", low, high, num)
    return Uniform(float(low), float(high), num)


def _check_range(name, low, high, num):
    for bound, what in ((low, "low"), (high, "high")):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not math.isfinite(bound):
            raise ValueError(f"{name}: {what} must be a finite number, got {bound!r}")
    if not low < high:
        raise ValueError(f"{name}: need low < high, got low={low!r}, high={high!r}")
    if num is not None and (isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 1):
        raise ValueError(f"{name}: num (grid points) must be a positive integer, got {num!r}")


class SearchResult:
    """The trials of a search in order (each a dict: trial, params, score, status, seconds, extra)."""

    def __init__(self, trials, maximize=True):
        self.trials, self.maximize = trials, maximize

    @property
    def best(self):
        """The trial with the best finite score, or None."""
        scored = [t for t in self.trials if t["status"] == "ok" and _finite(t["score"])]
        if not scored:
            return None
        return (max if self.maximize else min)(scored, key=lambda t: t["score"])

    @property
    def best_params(self):
        best = self.best
        return None if best is None else dict(best["params"])

    def table(self):
        """A text table, best trial first; failed and non-finite trials last."""
        rows = sorted(self.trials, key=self._rank)
        names = list(dict.fromkeys(k for t in rows for k in t["params"]))
        extras = list(dict.fromkeys(k for t in rows for k, v in t["extra"].items() if _short(v)))[:4]
        header = ["trial", *names, "score", *extras, "seconds"]
        body = [[str(t["trial"]), *(_fmt(t["params"].get(n)) for n in names),
                 _fmt(t["score"]) if t["status"] == "ok" else t["status"],
                 *(_fmt(t["extra"].get(k)) for k in extras), f"{t['seconds']:.2f}"] for t in rows]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [header, *body]]
        return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])

    def _rank(self, t):
        if t["status"] != "ok" or not _finite(t["score"]):
            return (1, 0.0)
        return (0, -t["score"] if self.maximize else t["score"])

    def __len__(self):
        return len(self.trials)

    def __str__(self):
        best = self.best
        tail = "no trial finished with a finite score" if best is None else (
            f"best: trial {best['trial']}, score {_fmt(best['score'])}, params {best['params']}")
        return f"{self.table()}\n{tail}"


def search(space, train_fn, mode="grid", trials=None, results_path=None, seed=0, maximize=True, on_error="raise",
           progress=True, verbose=True):
    """Run ``train_fn(**params)`` for each point of a grid or each of ``trials`` random draws.

    ``mode="grid"`` runs every combination of the values (``log_uniform``/``uniform`` ranges need
    ``num``); ``mode="random"`` draws ``trials`` points with a generator seeded by ``seed``.
    ``results_path``: a JSON file written after every trial; trials already in it (same params)
    are skipped, so an interrupted search resumes where it stopped. ``on_error="record"`` records a
    trial whose ``train_fn`` raises (e.g. the loss diverged) and goes on; ``"raise"`` stops the
    search (finished trials stay in the file). Prints the results table when ``verbose``; a tqdm
    bar when ``progress`` and tqdm is installed. Returns a :class:`SearchResult`.
    """
    if not callable(train_fn):
        raise TypeError(f"search: train_fn must be a function of the hyperparameters, got {type(train_fn).__name__}")
    if on_error not in ("raise", "record"):
        raise ValueError(f"search: on_error must be 'raise' or 'record', got {on_error!r}")
    plan = _plan(_check_space(space), mode, trials, seed)
    records = _load(results_path) if results_path is not None else []
    done = {_key(r["params"]): r for r in records}
    todo = sum(_key(p) not in done for p in plan)
    if verbose and results_path is not None and todo < len(plan):
        print(f"search: resuming from {results_path}: {len(plan) - todo} of {len(plan)} trials already done")
    bar = _progress(len(plan), len(plan) - todo) if progress else None
    results = []
    try:
        for index, params in enumerate(plan):
            key = _key(params)
            if key in done:
                results.append({**done[key], "trial": index})
                continue
            start = time.perf_counter()
            try:
                returned = train_fn(**params)
            except Exception as exc:  # noqa: BLE001 -- KeyboardInterrupt still stops the search
                if on_error == "raise":
                    raise
                record = _record(index, params, None, {"error": f"{type(exc).__name__}: {exc}"}, "error", start)
            else:
                score, extra = _split(returned)
                record = _record(index, params, score, extra, "ok", start)
            results.append(record)
            done[key] = record
            records.append(record)
            if results_path is not None:
                _save(results_path, records)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    result = SearchResult(results, maximize)
    if verbose:
        print(result)
    return result


# -- the plan --


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise ValueError(f"search: the space must be a non-empty dict of name -> values or range, got {space!r}")
    checked = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"search: hyperparameter names are train_fn's keyword arguments; {name!r} is not one")
        if isinstance(spec, (LogUniform, Uniform)):
            checked[name] = spec
        elif isinstance(spec, (list, tuple)):
            if not spec:
                raise ValueError(f"search: {name!r} has an empty list of values")
            checked[name] = [_plain(v, name) for v in spec]
        elif isinstance(spec, (numbers.Number, str, bool, type(None))):
            checked[name] = [_plain(spec, name)]
        else:
            raise TypeError(f"search: {name!r} must be a list of values, log_uniform(low, high), uniform(low, high) "
                            f"or a fixed value, got {type(spec).__name__}")
    return checked


def _plan(space, mode, trials, seed):
    if mode == "grid":
        if trials is not None:
            raise ValueError("search: a grid runs every combination; trials= is for mode='random'")
        axes = []
        for name, spec in space.items():
            if isinstance(spec, (LogUniform, Uniform)):
                if spec.num is None:
                    raise ValueError(f"search: a grid needs points for {name!r}: give {spec} a num= "
                                     f"(e.g. num=4), or use mode='random'")
                spec = spec.grid()
            axes.append(spec)
        return [dict(zip(space, combo)) for combo in itertools.product(*axes)]
    if mode == "random":
        if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1:
            raise ValueError(f"search: random search needs trials= a positive integer, got {trials!r}")
        plan = []
        for index in range(trials):
            # one generator per trial: trial i is the same whatever the number of trials
            rng = np.random.default_rng([seed, index])
            plan.append({name: spec.sample(rng) if isinstance(spec, (LogUniform, Uniform))
                         else spec[int(rng.integers(len(spec)))] for name, spec in space.items()})
        return plan
    raise ValueError(f"search: mode must be 'grid' or 'random', got {mode!r}")


def _plain(value, name):
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (numbers.Number, str, bool, type(None))):
        raise TypeError(f"search: values must be numbers, strings, bools or None (to go into the results file); "
                        f"{name!r} has {value!r}")
    return value


def _key(params):
    return json.dumps(params, sort_keys=True)


# -- trials and the results file --


def _split(returned):
    if isinstance(returned, dict):
        if "score" not in returned:
            raise ValueError(f"search: train_fn returned a dict without a 'score' (keys {sorted(returned)})")
        extra = {k: _jsonable(v, k) for k, v in returned.items() if k != "score"}
        return _score(returned["score"]), extra
    return _score(returned), {}


def _score(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"search: train_fn must return a number (the score) or a dict with 'score', got {value!r}")
    return float(value)


def _jsonable(value, key):
    try:
        return json.loads(json.dumps(value, default=_to_json))
    except (TypeError, ValueError):
        raise TypeError(f"search: train_fn returned {key!r} = {type(value).__name__}, which cannot go into the "
                        f"results file; return numbers, strings, lists or dicts of them") from None


def _to_json(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _record(index, params, score, extra, status, start):
    return {"trial": index, "params": params, "score": score, "status": status,
            "seconds": time.perf_counter() - start, "extra": extra}


def _save(path, records):
    """Write the results atomically (``files.atomic_write``): an interrupted write keeps the old file."""
    rows = [{**r, "score": r["score"] if _finite(r["score"]) else None,
             "nonfinite": None if _finite(r["score"]) or r["score"] is None else repr(r["score"])} for r in records]
    with atomic_write(path, "search", text=True) as f:
        json.dump({"format": FORMAT, "trials": rows}, f, indent=1)


def _load(path):
    path = os.fspath(path)
    refuse_folder(path, "search")
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"search: {path!r} is not a JSON results file ({exc}); move it away to start afresh") from None
    except RecursionError:
        raise ValueError(f"search: {path!r} is not a search results file (its JSON nests too deeply); "
                         f"move it away to start afresh") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"search: {path!r} is not a minigrad search results file; pass another results_path")
    trials = document.get("trials")
    if not isinstance(trials, list):
        raise ValueError(f"search: {path!r} is damaged: it has no list of 'trials'; move it away to start afresh")
    return [_check_record(r, i, path) for i, r in enumerate(trials)]


RECORD = {"trial": (int, "an integer"), "params": (dict, "an object"), "status": (str, "a string"),
          "seconds": ((int, float), "a number"), "extra": (dict, "an object")}
"""The keys every trial in a results file has, and their JSON types (``score`` is a number or null)."""


def _check_record(r, i, path):
    """Trial ``i`` of the results file, checked to be what ``_save`` wrote, its non-finite score put back."""
    def damaged(what):
        return ValueError(f"search: {path!r} is damaged: trial {i} of its 'trials' {what}; "
                          f"move the file away to start afresh, or mend that trial")

    if not isinstance(r, dict):
        raise damaged(f"is {type(r).__name__}, not an object")
    for key, (kind, words) in RECORD.items():
        if key not in r:
            raise damaged(f"has no {key!r}")
        if isinstance(r[key], bool) or not isinstance(r[key], kind):
            raise damaged(f"has {key!r} = {r[key]!r}, not {words}")
    if r["status"] not in ("ok", "error"):
        raise damaged(f"has status {r['status']!r}, not 'ok' or 'error'")
    r = dict(r)
    nonfinite = r.pop("nonfinite", None)
    score = r.get("score")
    if nonfinite is not None:
        try:
            r["score"] = float(nonfinite)
        except (TypeError, ValueError):
            raise damaged(f"has nonfinite = {nonfinite!r}, not nan or ±inf") from None
    elif score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise damaged(f"has score = {score!r}, not a number")
    else:
        r["score"] = None if score is None else float(score)
    return r


def _finite(x):
    return isinstance(x, float) and math.isfinite(x)


def _short(v):
    return isinstance(v, (numbers.Number, str)) and not isinstance(v, bool)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}"
    return "" if v is None else str(v)


def _progress(total, initial):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: search silently without it
        return None
    return tqdm(total=total, initial=initial, unit="trial", leave=False, dynamic_ncols=True, disable=None)
