"""Training end to end: a CNN on the real digits, flat memory, optimisers vs PyTorch on a CNN, the jobs."""
import gc
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, data, models, nn, optim
from minigrad.train import History, accuracy, evaluate, fit


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
