"""The training recipe's verdicts on models that are right and on models broken on purpose."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import data, models, nn, optim
from minigrad.train.recipes import (check_initial_loss, lr_find, overfit_small_sample, read_curves, search,
                              validate_every)
from minigrad.train import History, fit


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    (x_train, y_train), _ = data.load_digits()
    return x_train[:640], y_train[:640]


def mlp(hidden=64):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def same_state(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# -- step 1 --


def test_a_fresh_model_starts_near_log_c(digits):
    mg.manual_seed(0)
    for model in (mlp(), models.digits_cnn(width=4)):
        before = model.state_dict()
        result = check_initial_loss(model, digits)
        assert result.ok and result.verdict.startswith("ok")
        assert result.expected == pytest.approx(np.log(10)) and result.num_classes == 10
        assert 0.75 < result.ratio < 1.25
        assert same_state(before, model.state_dict())  # batch norm's running statistics were put back


def test_a_last_layer_initialised_too_large_is_flagged(digits):
    mg.manual_seed(0)
    model = mlp()
    with mg.no_grad():
        model[3].weight.data *= 50
    result = check_initial_loss(model, digits)
    assert not result.ok and result.ratio > 2
    assert "far above log(10)=2.30" in result.verdict and "init scale" in result.verdict


def test_a_trained_model_is_flagged_as_suspiciously_low(digits):
    mg.manual_seed(0)
    model = mlp()
    fit(model, data.DataLoader(*digits, 32), optim.Adam(model.parameters(), lr=1e-2), 5, progress=False)
    result = check_initial_loss(model, digits)
    assert not result.ok and "far below" in result.verdict and "already trained" in result.verdict


def test_initial_loss_accepts_a_dataloader_and_checks_the_classes(digits):
    mg.manual_seed(0)
    assert check_initial_loss(mlp(), data.DataLoader(*digits, 64)).ok
    with pytest.raises(ValueError, match="outputs 10 scores per sample but num_classes=5"):
        check_initial_loss(mlp(), digits, num_classes=5)
    narrow = nn.Sequential(nn.Flatten(), nn.Linear(64, 5))
    with pytest.raises(ValueError, match="labels run from 0 to 9 but the model outputs 5 classes"):
        check_initial_loss(narrow, digits)
    with pytest.raises(TypeError, match="pair"):
        check_initial_loss(mlp(), 42)


# -- step 2 --


def test_a_working_model_overfits_a_small_sample_and_is_put_back(digits):
    mg.manual_seed(0)
    model = mlp()
    before = model.state_dict()
    result = overfit_small_sample(model, digits, batches=5, lr=1e-2)
    assert result.success and result.accuracy == 1.0 and result.samples == 160
    assert result.verdict.startswith("ok") and result.loss < result.initial_loss / 5
    assert same_state(before, model.state_dict())


def test_learning_rate_zero_cannot_overfit(digits):
    mg.manual_seed(0)
    result = overfit_small_sample(mlp(), digits, lr=0.0, steps=30)
    assert not result.success and result.steps == 30
    assert "not going down" in result.verdict and "LR too low" in result.verdict


def test_a_dead_layer_is_named(digits):
    mg.manual_seed(0)
    model = mlp()
    with mg.no_grad():
        model[1].bias.data[:] = -100.0  # every hidden ReLU is off: nothing reaches layer 1 or layer 3's weight
    result = overfit_small_sample(model, digits, steps=60)
    assert not result.success
    assert result.no_gradient == ["1.weight", "1.bias", "3.weight"]
    assert "never got a gradient: 1.weight, 1.bias, 3.weight" in result.verdict


def test_an_exploding_loss_says_the_learning_rate_is_too_high(digits):
    mg.manual_seed(0)
    result = overfit_small_sample(mlp(), digits, optimizer=lambda p: optim.SGD(p, lr=1e4), steps=50)
    assert not result.success and "too high" in result.verdict


def test_frozen_parameters_are_reported_and_all_frozen_is_an_error(digits):
    mg.manual_seed(0)
    model = mlp()
    model[1].requires_grad_(False)
    assert overfit_small_sample(model, digits, lr=1e-2, steps=20).frozen == ["1.weight", "1.bias"]
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="every parameter .* is frozen"):
        overfit_small_sample(model, digits)


# -- step 3 --


def test_lr_find_restores_the_weights_and_suggests_a_rate_in_range(digits, tmp_path):
    mg.manual_seed(0)
    model = models.digits_cnn(width=4)
    before = model.state_dict()
    result = lr_find(model, digits, steps=40, lr_min=1e-4, lr_max=3.0, path=tmp_path / "lr.png")
    assert same_state(before, model.state_dict())
    assert 1e-4 <= result.suggested <= 3.0 and result.suggested == pytest.approx(result.min_loss_lr / 10)
    assert 1e-4 <= result.steepest_lr <= result.min_loss_lr
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 40
    assert np.all(np.diff(result.lrs) > 0) and result.smoothed.min() < result.smoothed[0]
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"
    assert "suggested learning rate" in result.verdict


def test_lr_find_takes_a_factory_and_stops_when_the_loss_blows_up(digits):
    mg.manual_seed(0)
    result = lr_find(mlp, digits, lr_min=1e-3, lr_max=1e3, steps=60)
    assert result.stopped_early and len(result.lrs) < 60 and result.lrs[-1] < 1e3
    with pytest.raises(ValueError, match="0 < lr_min < lr_max"):
        lr_find(mlp, digits, lr_min=1.0, lr_max=0.1)
    with pytest.raises(TypeError, match="factory"):
        lr_find(42, digits)


class Disconnected(nn.Module):
    """Broken on purpose: its parameters never reach the output (a forgotten wire), so no rate can lower the loss."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(x.reshape(len(x), 64)) * 0.0


def test_lr_find_says_when_the_loss_hardly_fell(digits):
    mg.manual_seed(0)
    for model, low, high in ((Disconnected(), 1e-4, 1.0), (mlp(), 1e-8, 1e-7)):  # broken; a range far too low
        result = lr_find(model, digits, lr_min=low, lr_max=high, steps=30)
        assert result.verdict.startswith("the loss hardly fell anywhere between lr")
        assert f"between lr {low:.2g} and {result.lrs[-1]:.2g}" in result.verdict
        assert "widen the range" in result.verdict and "suggested" not in result.verdict
        assert result.smoothed.min() > 0.95 * result.smoothed[0] and not result.stopped_early
    working = lr_find(mlp(), digits, lr_min=1e-4, lr_max=1.0, steps=30)  # the same model, a sensible range
    assert working.verdict.startswith("suggested learning rate")


# -- step 6 --


def test_validation_every_k_steps_and_reading_the_curves(digits, tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.viz.plots import plot_learning_curves

    x, y = digits
    mg.manual_seed(0)
    model = mlp()
    history = History()
    fit(model, data.DataLoader(x[:480], y[:480], 32), optim.Adam(model.parameters(), lr=1e-2), 4, history=history,
        progress=False, on_step=validate_every(model, (x[480:], y[480:]), history, every=5))
    assert history.val_step == list(range(5, 61, 5)) and len(history.val_acc) == 12
    notes = read_curves(history, window=5)
    assert notes and all(isinstance(n, str) for n in notes)
    assert any("training loss" in n for n in notes) and any("validation" in n for n in notes)
    assert plot_learning_curves(history, tmp_path / "curves.png", window=5).endswith("curves.png")
    assert read_curves(History())[0].startswith("only 0 steps")


def test_a_flat_loss_reads_as_a_learning_rate_or_bug_problem():
    history = History()
    history.train_loss = [2.3] * 100
    history.train_acc = [0.1] * 100
    assert "flat" in read_curves(history)[0]


def test_the_whole_recipe_runs_on_one_model(digits):
    """Steps 1-4 chained the way the example does, with a tiny budget."""
    x, y = digits
    mg.manual_seed(0)
    model = mlp(32)
    assert check_initial_loss(model, (x, y)).ok
    assert overfit_small_sample(model, (x, y), lr=1e-2).success
    lr = lr_find(model, (x, y), steps=30).suggested

    def train_fn(lr, weight_decay):
        mg.manual_seed(0)
        net = mlp(32)
        h = fit(net, data.DataLoader(x, y, 64), optim.SGD(net.parameters(), lr=lr, momentum=0.9,
                                                          weight_decay=weight_decay), 1, progress=False)
        return float(np.mean(h.train_acc[-5:]))

    result = search({"lr": [lr, lr / 10], "weight_decay": [0.0, 1e-4]}, train_fn, progress=False, verbose=False)
    assert len(result) == 4 and result.best["params"]["lr"] in (lr, lr / 10)


def test_bad_arguments_are_clear_errors(digits):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        check_initial_loss(mlp(), digits, batch_size=0)
    with pytest.raises(ValueError, match="steps and batches must be positive"):
        overfit_small_sample(mlp(), digits, steps=0)
    with pytest.raises(ValueError, match="target is a training accuracy"):
        overfit_small_sample(mlp(), digits, target=95)
    with pytest.raises(ValueError, match="x has 640 samples but y has 10"):
        lr_find(mlp, (digits[0], digits[1][:10]))
    with pytest.raises(ValueError, match="no batches"):
        overfit_small_sample(mlp(), [])
