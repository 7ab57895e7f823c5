"""Hyperparameter search: grid and log-uniform random trials, validation, resuming, an atomic results file."""
import io
import json
import math
import sys
import time

import numpy as np
import pytest

from minigrad import search as search_module
from minigrad.train.search import log_uniform, search, uniform

LECTURES = {"lr": log_uniform(1e-4, 1e-1, num=4), "weight_decay": log_uniform(1e-4, 1e-1, num=4)}


def score(lr, weight_decay):
    """A made-up validation accuracy, best at lr 1e-2 and small weight decay."""
    return 1.0 - abs(math.log10(lr) + 2) / 4 - weight_decay


def quiet(*args, **kwargs):
    return search(*args, progress=False, verbose=False, **kwargs)


def test_the_lectures_grid_runs_all_16_combinations():
    result = quiet(LECTURES, score, mode="grid")
    assert len(result) == 16
    pairs = [(t["params"]["lr"], t["params"]["weight_decay"]) for t in result.trials]
    assert len(set(pairs)) == 16
    assert sorted({round(lr, 12) for lr, _ in pairs}) == [1e-4, 1e-3, 1e-2, 1e-1]
    assert result.best_params["lr"] == pytest.approx(1e-2) and result.best_params["weight_decay"] == pytest.approx(1e-4)
    assert [t["trial"] for t in result.trials] == list(range(16))


def test_lists_and_fixed_values_in_a_grid():
    seen = []
    result = quiet({"lr": [0.1, 0.01], "momentum": (0.0, 0.9), "epochs": 2},
                   lambda lr, momentum, epochs: seen.append((lr, momentum, epochs)) or lr, mode="grid")
    assert seen == [(0.1, 0.0, 2), (0.1, 0.9, 2), (0.01, 0.0, 2), (0.01, 0.9, 2)]
    assert len(result) == 4 and result.best_params == {"lr": 0.1, "momentum": 0.0, "epochs": 2}


def test_random_search_draws_log_uniformly_within_the_bounds():
    result = quiet({"lr": log_uniform(1e-4, 1e-1), "weight_decay": log_uniform(1e-4, 1e-1)},
                   lambda lr, weight_decay: 0.0, mode="random", trials=600, seed=3)
    assert len(result) == 600
    logs = np.log10([t["params"]["lr"] for t in result.trials])
    assert logs.min() >= -4 and logs.max() <= -1
    decades = np.histogram(logs, bins=[-4, -3, -2, -1])[0] / len(logs)
    assert np.all(np.abs(decades - 1 / 3) < 0.07)  # each decade equally likely, not 90% in the top one
    assert len({t["params"]["lr"] for t in result.trials}) == 600  # random search tries many values


def test_random_search_repeats_from_the_seed_and_samples_lists_and_uniform_ranges():
    space = {"lr": log_uniform(1e-3, 1.0), "dropout": uniform(0.0, 0.5), "optimizer": ["sgd", "adam"]}
    a = quiet(space, lambda **p: 0.0, mode="random", trials=50, seed=7)
    b = quiet(space, lambda **p: 0.0, mode="random", trials=50, seed=7)
    c = quiet(space, lambda **p: 0.0, mode="random", trials=50, seed=8)
    assert [t["params"] for t in a.trials] == [t["params"] for t in b.trials] != [t["params"] for t in c.trials]
    assert all(0.0 <= t["params"]["dropout"] <= 0.5 for t in a.trials)
    assert {t["params"]["optimizer"] for t in a.trials} == {"sgd", "adam"}


@pytest.mark.parametrize("make, message", [
    (lambda: log_uniform(0, 1e-1), "must be positive"),
    (lambda: log_uniform(-1e-4, 1e-1), "must be positive"),
    (lambda: log_uniform(1e-1, 1e-4), "low < high"),
    (lambda: uniform(1.0, float("nan")), "finite number"),
    (lambda: log_uniform(1e-4, 1e-1, num=0), "positive integer"),
    (lambda: quiet({"lr": log_uniform(1e-4, 1e-1)}, score, mode="grid"), "give log_uniform.* a num="),
    (lambda: quiet({"lr": [0.1]}, score, mode="random"), "needs trials="),
    (lambda: quiet({"lr": [0.1]}, score, mode="grid", trials=3), "trials= is for mode='random'"),
    (lambda: quiet({"lr": [0.1]}, score, mode="bayes"), "mode must be 'grid' or 'random'"),
    (lambda: quiet({"lr": []}, score), "empty list"),
    (lambda: quiet({}, score), "non-empty dict"),
    (lambda: quiet({"learning rate": [0.1]}, score), "not one"),
    (lambda: quiet({"lr": [0.1]}, score, on_error="ignore"), "on_error"),
])
def test_a_bad_space_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_train_fn_must_return_a_score():
    with pytest.raises(TypeError, match="must return a number"):
        quiet({"lr": [0.1]}, lambda lr: "good")
    with pytest.raises(ValueError, match="without a 'score'"):
        quiet({"lr": [0.1]}, lambda lr: {"acc": 0.9})
    with pytest.raises(TypeError, match="cannot go into the results file"):
        quiet({"lr": [0.1]}, lambda lr: {"score": 0.9, "model": object()})


def test_a_dict_result_keeps_its_extras_and_lower_can_be_better(tmp_path, capsys):
    result = search({"lr": [0.1, 0.01]}, lambda lr: {"score": lr, "val_loss": np.float32(lr * 3), "curve": [1, 2]},
                    maximize=False, progress=False)
    assert result.best_params == {"lr": 0.01}
    assert result.trials[0]["extra"] == {"val_loss": pytest.approx(0.3), "curve": [1, 2]}
    printed = capsys.readouterr().out
    assert "val_loss" in printed and "best: trial 1" in printed
    assert printed.index("0.01") < printed.index("0.1 ")  # the table lists the best first


def test_an_interrupted_search_resumes_without_recomputing(tmp_path):
    path = tmp_path / "search.json"
    calls = []

    def crashes_on_trial_3(lr, weight_decay):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user pressed ^C (or the machine went down) during trial 3
        calls.append((lr, weight_decay))
        return score(lr, weight_decay)

    with pytest.raises(KeyboardInterrupt):
        quiet(LECTURES, crashes_on_trial_3, mode="grid", results_path=path)
    saved = json.loads(path.read_text())["trials"]
    assert [t["trial"] for t in saved] == [0, 1, 2]

    again = []
    result = quiet(LECTURES, lambda **p: again.append(p) or score(**p), mode="grid", results_path=path)
    assert len(again) == 13 and all((p["lr"], p["weight_decay"]) not in calls for p in again)
    assert len(result) == 16 and [t["trial"] for t in result.trials] == list(range(16))
    assert len(json.loads(path.read_text())["trials"]) == 16

    nothing = []
    assert len(quiet(LECTURES, lambda **p: nothing.append(p) or 0.0, mode="grid", results_path=path)) == 16
    assert nothing == []  # a finished search reruns nothing


def test_more_random_trials_continue_a_search(tmp_path, capsys):
    path, space = tmp_path / "r.json", {"lr": log_uniform(1e-4, 1e-1), "weight_decay": log_uniform(1e-4, 1e-1)}
    first = quiet(space, score, mode="random", trials=5, results_path=path)
    calls = []
    more = search(space, lambda **p: calls.append(p) or score(**p), mode="random", trials=8, results_path=path,
                  progress=False)
    assert len(calls) == 3 and [t["params"] for t in more.trials[:5]] == [t["params"] for t in first.trials]
    assert "5 of 8 trials already done" in capsys.readouterr().out


def test_failed_and_nonfinite_trials_are_recorded_and_ranked_last(tmp_path):
    path = tmp_path / "s.json"

    def train_fn(lr):
        if lr == 1.0:
            raise FloatingPointError("fit: the loss became nan")
        return float("nan") if lr == 0.1 else lr

    result = quiet({"lr": [1.0, 0.1, 0.01]}, train_fn, results_path=path, on_error="record")
    assert [t["status"] for t in result.trials] == ["error", "ok", "ok"]
    assert "FloatingPointError: fit: the loss became nan" in result.trials[0]["extra"]["error"]
    assert result.best_params == {"lr": 0.01}
    assert result.table().splitlines()[2].split()[:2] == ["2", "0.01"]
    assert "NaN" not in path.read_text()  # strict JSON: a non-finite score is stored as null + its text
    reloaded = quiet({"lr": [1.0, 0.1, 0.01]}, lambda lr: pytest.fail("recomputed"), results_path=path)
    assert math.isnan(reloaded.trials[1]["score"]) and reloaded.trials[0]["status"] == "error"


def test_the_results_file_is_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / "search.json"
    quiet({"lr": [0.1]}, score_lr := (lambda lr: lr), results_path=path)
    before = path.read_text()

    def dies_mid_write(document, f, **kwargs):
        f.write('{"format": "minigrad-search", "tri')  # half a file, then the process dies
        raise OSError("disk full")

    monkeypatch.setattr(search_module.json, "dump", dies_mid_write)
    with pytest.raises(OSError, match="disk full"):
        quiet({"lr": [0.1, 0.01]}, score_lr, results_path=path)
    assert path.read_text() == before  # the previous results are intact
    assert [p.name for p in tmp_path.iterdir()] == ["search.json"]  # and no temporary file is left behind


def test_a_foreign_results_file_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"something": "else"}')
    with pytest.raises(ValueError, match="not a minigrad search results file"):
        quiet({"lr": [0.1]}, score, results_path=path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON results file"):
        quiet({"lr": [0.1]}, score, results_path=path)


def test_the_progress_bar_shows_in_a_terminal_and_changes_no_result(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    space = {"lr": log_uniform(1e-4, 1e-1), "weight_decay": [0.0, 1e-4]}

    def slow_score(lr, weight_decay):
        time.sleep(0.15)  # past tqdm's 0.1 s refresh interval, so every finished trial is drawn
        return score(lr, weight_decay)

    def outcome(result):
        return [(t["trial"], t["params"], t["score"], t["status"]) for t in result.trials]

    plain = search(space, score, mode="random", trials=3, progress=False, verbose=False)
    assert capsys.readouterr() == ("", "")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with_bar = search(space, slow_score, mode="random", trials=3, progress=True, verbose=False)
    assert outcome(with_bar) == outcome(plain)
    drawn = terminal.getvalue()
    assert "0/3" in drawn and "1/3" in drawn and "3/3" in drawn and "trial" in drawn

    piped = io.StringIO()  # a log or a pipe: no bar, as fit's
    monkeypatch.setattr(sys, "stderr", piped)
    assert outcome(search(space, score, mode="random", trials=3, verbose=False)) == outcome(plain)
    assert piped.getvalue() == ""


@pytest.mark.parametrize("content, message", [
    (b'{"format": "minigrad-search"}', r"is damaged: it has no list of 'trials'"),
    (b'{"format": "minigrad-search", "trials": [{"trial": 0}]}',
     r"is damaged: trial 0 of its 'trials' has no 'params'"),
    (b'{"format": "minigrad-search", "trials": [7]}', r"trial 0 of its 'trials' is int, not an object"),
    (json.dumps({"format": "minigrad-search", "trials": [
        {"trial": 0, "params": {"lr": 0.1}, "score": 0.5, "status": "ok", "seconds": 1.0, "extra": {}},
        {"trial": 1, "params": [0.01], "score": 0.5, "status": "ok", "seconds": 1.0, "extra": {}}]}).encode(),
     r"trial 1 of its 'trials' has 'params' = \[0.01\], not an object"),
    (json.dumps({"format": "minigrad-search", "trials": [
        {"trial": 0, "params": {"lr": 0.1}, "score": "high", "status": "ok", "seconds": 1.0, "extra": {}}]}).encode(),
     r"has score = 'high', not a number"),
    ('{"format": "minigrad-search", "trials": [], "note": "caf\u00e9"}'.encode("latin-1"),
     r"is not a JSON results file"),
    (b"\xff\xfe\x00binary", r"is not a JSON results file"),
])
def test_a_malformed_results_file_is_a_clear_error_naming_it(tmp_path, content, message):
    """Was KeyError: 'params' or UnicodeDecodeError."""
    path = tmp_path / "search.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"search: '[^']*search\.json' .*{message}"):
        quiet({"lr": [0.1]}, lambda lr: pytest.fail("ran a trial"), results_path=path)
    assert path.read_bytes() == content  # left as it was
