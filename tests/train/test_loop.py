"""Training end to end: a CNN on the real digits, flat memory, optimisers vs PyTorch on a CNN, the jobs."""
import gc
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, data, models, nn, optim
from minigrad.train import History, NonFiniteLossError, accuracy, evaluate, fit, snapshot


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return data.load_digits()


def test_a_digits_cnn_reaches_96_percent(digits):
    (x_train, y_train), (x_test, y_test) = digits
    mg.manual_seed(0)
    model = models.digits_cnn()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    history = fit(model, data.DataLoader(x_train, y_train, 32, seed=0), opt, epochs=6, val=(x_test, y_test),
                  progress=False)
    loss, acc = evaluate(model, x_test, y_test)
    assert acc >= 0.96
    assert len(history.train_loss) == 6 * 45 and len(history.val_acc) == 6
    assert history.train_loss[-1] < history.train_loss[0] / 5


def test_training_memory_stays_flat(digits):
    (x_train, y_train), _ = digits
    mg.manual_seed(0)
    model = models.digits_cnn()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = data.DataLoader(x_train, y_train, 32, seed=0)

    def steps(n):
        for i, (xb, yb) in enumerate(loader):
            if i == n:
                break
            loss = nn.functional.cross_entropy(model(Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

    steps(5)  # warm up: optimiser state, caches
    gc.collect()
    tracemalloc.start()
    steps(5)
    first, _ = tracemalloc.get_traced_memory()
    steps(25)
    second, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert second - first < 256 * 1024  # no graph, gradient or saved array survives a step


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning")
def test_fit_reports_a_diverging_loss():  # numpy's own overflow warnings on the way there are expected
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32) * 1e20
    loader = data.DataLoader(x, np.zeros(8, dtype=np.int64), 8)
    with pytest.raises(FloatingPointError, match="the loss became (nan|inf).*detect_anomaly"):
        fit(model, loader, optim.SGD(model.parameters(), lr=1e10), epochs=5, progress=False)


def test_accuracy_and_history():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    h = History()
    h.train_loss.append(1.0)
    assert h.as_dict()["train_loss"] == [1.0]


def test_optimisers_match_pytorch_on_a_small_cnn(torch_on_one_thread):
    torch = pytest.importorskip("torch")

    def pair():
        ours = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(12, 4)).double()
        theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                                     torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(12, 4)).double()
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        return ours, theirs

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 1, 4, 4)), rng.integers(0, 4, 6)
    configs = [
        ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=1e-2, weight_decay=1e-3)),
        ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ]
    for name, kwargs in configs:
        ours, theirs = pair()
        opt_a = getattr(optim, name)(ours.parameters(), **kwargs)
        opt_b = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
        for _ in range(3):
            opt_a.zero_grad()
            nn.functional.cross_entropy(ours(Tensor(x)), y).backward()
            opt_a.step()
            opt_b.zero_grad()
            torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
            opt_b.step()
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-6, err_msg=f"{name} {key}")


def test_frozen_layers_are_not_updated(digits):
    (x_train, y_train), _ = digits
    mg.manual_seed(0)
    model = models.digits_cnn()
    body = model[:8]
    body.requires_grad_(False)
    before = {k: v.copy() for k, v in body.state_dict().items() if "running" not in k and "num_batches" not in k}
    opt = optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    fit(model, data.DataLoader(x_train[:64], y_train[:64], 32), opt, progress=False)
    after = body.state_dict()
    assert all(np.array_equal(v, after[k]) for k, v in before.items())


def test_plot_learning_curves(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.viz.plots import moving_average, plot_learning_curves

    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    h = History()
    h.train_loss, h.train_acc = [2.0, 1.0, 0.5], [0.1, 0.5, 0.9]
    h.val_loss, h.val_acc, h.val_step = [0.7], [0.8], [3]
    path = plot_learning_curves(h, tmp_path / "curves.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_learning_curves(h, tmp_path / "missing" / "curves.png")


# -- snapshot: try something on a model, have it back --


def _net():
    mg.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))


def _batches(n=4):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((4, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, 4)) for _ in range(n)]


def test_snapshot_puts_back_weights_buffers_optimiser_modes_and_requires_grad_even_when_the_block_raises():
    model = _net()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    fit(model, _batches(2), opt, progress=False)  # the optimiser has moments and step counts to lose
    model[1].eval()  # mixed modes: a batch norm frozen in eval mode inside a training model
    model[0].requires_grad_(False)
    weights, moments = model.state_dict(), opt.state_dict()
    with pytest.raises(RuntimeError, match="on purpose"):
        with snapshot(model, opt):
            model.train()
            model.requires_grad_(True)
            for group in opt.param_groups:
                group["lr"] = 1.0
            fit(model, _batches(), opt, progress=False)  # changes weights, running statistics and moments
            assert not np.array_equal(model.state_dict()["1.running_mean"], weights["1.running_mean"])
            raise RuntimeError("on purpose")
    after = model.state_dict()
    assert all(np.array_equal(v, after[k]) for k, v in weights.items())
    assert [m.training for m in model.modules()] == [True, True, False, True, True, True]
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True, True, True]
    restored = opt.state_dict()
    assert restored["param_groups"][0]["lr"] == 1e-2
    assert restored["state"].keys() == moments["state"].keys()
    for i, s in moments["state"].items():
        assert s["step"] == restored["state"][i]["step"] == 2
        np.testing.assert_array_equal(s["exp_avg"], restored["state"][i]["exp_avg"])


def test_snapshot_without_weights_keeps_what_the_block_learnt_but_puts_the_modes_back():
    model = _net().eval()
    before = model.state_dict()
    with snapshot(model, weights=False):
        fit(model, _batches(), optim.SGD(model.parameters(), lr=0.1), progress=False)
    assert not model.training and not any(m.training for m in model.modules())
    assert not np.array_equal(model.state_dict()["4.weight"], before["4.weight"])


# -- fit's knobs: stopping, callbacks, per-step records --


def test_fit_stops_after_max_steps_and_still_ends_the_epoch():
    model = _net()
    history = fit(model, _batches(), optim.SGD(model.parameters(), lr=0.1), epochs=3, val=_batches(1)[0],
                  max_steps=6, progress=False)
    assert len(history.train_loss) == 6 and history.val_step == [4, 6]  # the cut-short second epoch is validated
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        fit(model, _batches(), optim.SGD(model.parameters(), lr=0.1), max_steps=0, progress=False)


def test_a_callback_returning_true_stops_training():
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert len(fit(model, _batches(), opt, epochs=5, on_step=lambda step, loss: step == 3,
                   progress=False).train_loss) == 3
    epochs = []
    history = fit(model, _batches(), opt, epochs=5, on_epoch=lambda epoch, step: epochs.append((epoch, step)) or epoch == 2,
                  progress=False)
    assert epochs == [(1, 4), (2, 8)] and len(history.train_loss) == 8


def test_fit_hands_on_batch_the_output_and_the_parts_of_a_tuple_loss():
    model = _net()
    seen = []

    def loss_fn(out, y):
        ce = nn.functional.cross_entropy(out, y)
        return ce * 2, ce

    def on_batch(step, out, y, loss):
        total, part = loss
        seen.append((step, out.shape, len(y), total.item() == pytest.approx(2 * part.item())))

    history = fit(model, _batches(2), optim.SGD(model.parameters(), lr=0.1), loss_fn=loss_fn, on_batch=on_batch,
                  metric=None, progress=False)
    assert seen == [(1, (4, 3), 4, True), (2, (4, 3), 4, True)]
    assert len(history.train_loss) == 2 and history.train_acc == []  # metric=None: the outputs need not be classes


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning")
def test_a_non_finite_loss_is_caught_before_its_step_changes_the_weights():
    model = nn.Sequential(nn.Linear(4, 3))
    x = np.ones((8, 4), dtype=np.float32)
    x[4:] = np.inf  # the second batch's loss is not finite
    before = model.state_dict()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(NonFiniteLossError, match="step 2") as caught:
        fit(model, data.DataLoader(x, np.zeros(8, dtype=np.int64), 4, shuffle=False), opt, progress=False)
    assert caught.value.step == 2 and not np.isfinite(caught.value.value)
    assert isinstance(caught.value, FloatingPointError)
    weights = model.state_dict()["0.weight"]
    assert np.all(np.isfinite(weights)) and not np.array_equal(weights, before["0.weight"])  # one finite step taken


def test_fit_trains_on_a_generator_with_a_progress_bar():
    pytest.importorskip("tqdm")
    model = _net()
    history = fit(model, iter(_batches()), optim.SGD(model.parameters(), lr=0.1), max_steps=3)
    assert len(history.train_loss) == 3


# -- evaluate on batches, in either mode, with its outputs --


def test_evaluate_takes_batches_and_shows_its_outputs():
    model = _net()
    batches = _batches()
    x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    assert evaluate(model, batches, batch_size=999) == evaluate(model, x, y, batch_size=4)
    kept = []
    loss, acc = evaluate(model, x, y, loss_fn=None, on_batch=lambda out, yb: kept.append(out.data))
    assert np.isnan(loss) and acc == evaluate(model, x, y)[1] and np.concatenate(kept).shape == (16, 3)
    with pytest.raises(TypeError, match="y is missing"):
        evaluate(model, x)


def test_evaluate_in_training_mode_uses_batch_statistics_and_puts_the_mode_back():
    model = _net().eval()
    x, y = _batches(1)[0]
    with snapshot(model):
        train_loss, _ = evaluate(model, x, y, train=True)
        assert not np.array_equal(model[1].running_mean.data, np.zeros(2))  # batch norm updated its statistics
    assert not model.training and np.array_equal(model[1].running_mean.data, np.zeros(2))
    assert train_loss != evaluate(model, x, y)[0]
