"""Optimisers and schedules: hand-worked updates, PyTorch's exact rules, frozen parameters, resuming, errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn, optim
from minigrad.optim import SGD, Adagrad, Adam, AdamW, CosineAnnealingLR, RMSprop, StepLR


def half_square_step(opt, params):
    """loss = sum(w**2) / 2, so the gradient is w itself."""
    opt.zero_grad()
    (sum((p * p).sum() for p in params) * 0.5).backward()
    opt.step()


# -- updates worked by hand --


def test_sgd_momentum_by_hand():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1, momentum=0.9)
    half_square_step(opt, [w])  # g = [1, -2]; buf = g (no dampening on the first step); w -= 0.1 * buf
    np.testing.assert_allclose(w.data, [0.9, -1.8])
    half_square_step(opt, [w])  # g = [0.9, -1.8]; buf = 0.9 * [1, -2] + g = [1.8, -3.6]
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"], [1.8, -3.6])
    np.testing.assert_allclose(w.data, [0.72, -1.44])


def test_sgd_dampening_weight_decay_nesterov_by_hand():
    w = Tensor(np.array([2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.25)
    half_square_step(opt, [w])  # g = 2 + 0.25 * 2 = 2.5 -> buf = 2.5 -> w = 2 - 0.25
    assert w.data[0] == pytest.approx(1.75)
    half_square_step(opt, [w])  # g = 1.75 * 1.25 = 2.1875; buf = 0.5 * 2.5 + 0.5 * 2.1875 = 2.34375
    assert w.data[0] == pytest.approx(1.75 - 0.234375)

    v = Tensor(np.array([2.0]), requires_grad=True)
    half_square_step(SGD([v], lr=0.1, momentum=0.5, nesterov=True), [v])  # g + 0.5 * buf = 3
    assert v.data[0] == pytest.approx(1.7)


def test_adam_and_adamw_by_hand():
    # on the first step the bias corrections make the update lr * g / (|g| + eps): a step of lr against the sign
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    half_square_step(Adam([w], lr=0.1), [w])
    np.testing.assert_allclose(w.data, [0.9, -1.9], rtol=1e-7)
    # AdamW first shrinks w by lr * weight_decay = 5%, then takes the same Adam step
    v = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    half_square_step(AdamW([v], lr=0.1, weight_decay=0.5), [v])
    np.testing.assert_allclose(v.data, [0.95 - 0.1, -1.9 + 0.1], rtol=1e-7)
    # Adam's weight decay is an L2 term in the gradient instead: g = w + 0.5 w keeps the sign, same step
    u = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = Adam([u], lr=0.1, weight_decay=0.5)
    half_square_step(opt, [u])
    np.testing.assert_allclose(u.data, [0.9, -1.9], rtol=1e-7)
    np.testing.assert_allclose(opt.state[u]["exp_avg"], [0.15, -0.3])
    np.testing.assert_allclose(opt.state[u]["exp_avg_sq"], [0.001 * 1.5**2, 0.001 * 3.0**2])
    assert opt.state[u]["step"] == 1


# -- the same three steps as PyTorch, on a small MLP in float64 --

rng = np.random.default_rng(5)
X, T = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
WEIGHTS = [rng.standard_normal(s) * 0.5 for s in [(6, 4), (6,), (3, 6), (3,)]]


def mlp_loss(w1, b1, w2, b2, x, t, relu):
    h = relu(x @ w1.T + b1)
    return ((h @ w2.T + b2 - t) ** 2).mean()


def three_steps_each(torch, opt, ours, topt, theirs):
    """Three optimiser steps on the MLP loss in both frameworks, from their own copies of WEIGHTS."""
    for _ in range(3):
        opt.zero_grad()
        mlp_loss(*ours, Tensor(X), Tensor(T), lambda a: a.relu()).backward()
        opt.step()
        topt.zero_grad()
        mlp_loss(*theirs, torch.tensor(X), torch.tensor(T), torch.relu).backward()
        topt.step()


CONFIGS = {
    "sgd": (SGD, dict(lr=0.1)),
    "sgd momentum dampening": (SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd nesterov": (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd weight decay": (SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    "adam": (Adam, dict(lr=0.01)),
    "adam weight decay": (Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamw": (AdamW, dict(lr=0.01)),
    "adamw weight decay": (AdamW, dict(lr=0.05, weight_decay=0.3)),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_three_steps_match_pytorch(name):
    torch = pytest.importorskip("torch")
    cls, kwargs = CONFIGS[name]
    ours = [Tensor(w.copy(), requires_grad=True) for w in WEIGHTS]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in WEIGHTS]
    opt = cls(ours, **kwargs)
    topt = getattr(torch.optim, cls.__name__)(theirs, **kwargs)
    three_steps_each(torch, opt, ours, topt, theirs)
    for p, q in zip(ours, theirs):
        assert p.dtype == np.float64
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-12)


def test_param_groups_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = [Tensor(w.copy(), requires_grad=True) for w in WEIGHTS]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in WEIGHTS]
    head = {"lr": 0.3, "nesterov": True}
    opt = SGD([{"params": ours[:2]}, {"params": ours[2:], **head}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], **head}], lr=0.1, momentum=0.9)
    three_steps_each(torch, opt, ours, topt, theirs)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-12)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.3]


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_a_gradient_of_the_wrong_shape_is_refused_naming_the_parameter_before_anything_moves(cls):
    model = nn.Sequential(nn.Linear(3, 2))
    opt = cls(model.parameters(), lr=0.1)
    before = model.state_dict()
    model[0].bias.grad = np.ones(2, dtype=np.float32)
    model[0].weight.grad = np.ones(3, dtype=np.float32)  # would broadcast onto (2, 3) without a word
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.step: the gradient of '0\.weight' "
                                         rf"\(parameter 0 of group 0\) has shape \(3,\) "
                                         rf"but the parameter has shape \(2, 3\)"):
        opt.step()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # not even the bias moved
    w = Tensor(np.zeros(2), requires_grad=True)
    w.grad = np.zeros(())
    with pytest.raises(ValueError, match=r"the gradient of parameter 0 of group 0 has shape \(\)"):
        SGD([w], lr=0.1).step()


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_updates_are_in_place_and_keep_the_dtype(cls):
    w = Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    array, version = w.data, w._version
    opt = cls([w], lr=0.1, **({"momentum": 0.9} if cls is SGD else {}))
    half_square_step(opt, [w])
    assert w.data is array and w.dtype == np.float32 and w._version > version
    assert all(v.dtype == np.float32 for v in opt.state[w].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_frozen_parameters_stay_put(cls):
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    frozen = Tensor(np.array([3.0]), requires_grad=True)
    unused = Tensor(np.array([4.0]), requires_grad=True)  # never reaches the loss: grad stays None
    opt = cls([w, frozen, unused], lr=0.1, weight_decay=0.1)
    (frozen * frozen).sum().backward()
    frozen.requires_grad_(False)  # frozen after a backward: it still has a .grad, yet must not move
    half_square_step(opt, [w])
    assert frozen.data[0] == 3.0 and unused.data[0] == 4.0
    assert frozen not in opt.state and unused not in opt.state
    assert not np.array_equal(w.data, [1.0, -2.0])


TRANSFER_OPTIMISERS = {
    "SGD": lambda params: SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-2),
    "AdamW": lambda params: AdamW(params, lr=1e-2, weight_decay=0.1),
}


@pytest.mark.parametrize("freeze_after", [0, 2])
@pytest.mark.parametrize("name", TRANSFER_OPTIMISERS)
def test_a_frozen_submodule_stays_put_though_the_optimiser_has_all_parameters(name, freeze_after):
    """Transfer learning (issue 5): freeze the body, hand model.parameters() -- all of them -- to the optimiser.

    ``freeze_after=2``: the body trained for two steps first, so the optimiser holds momentum or moments for
    it, and ``zero_grad(set_to_none=False)`` leaves it zero gradients: weight decay or momentum alone would
    still move it.
    """
    mg.manual_seed(0)
    body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
    head = nn.Linear(8, 3)
    model = nn.Sequential(body, head)
    rng = np.random.default_rng(0)
    x, y = Tensor(rng.standard_normal((16, 4))), rng.integers(0, 3, 16)
    opt = TRANSFER_OPTIMISERS[name](model.parameters())

    def step():
        opt.zero_grad(set_to_none=False)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(freeze_after):
        step()
    body.requires_grad_(False)
    frozen = {k: p.data.copy() for k, p in body.named_parameters()}
    trained = {k: p.data.copy() for k, p in head.named_parameters()}
    for _ in range(3):
        step()
    for k, p in body.named_parameters():
        assert np.array_equal(p.data, frozen[k]), f"frozen {k} moved"
        assert p.grad is None if freeze_after == 0 else not p.grad.any()  # backward gave it nothing
    for k, p in head.named_parameters():
        assert not np.allclose(p.data, trained[k]), f"trainable {k} did not move"

@pytest.mark.parametrize("cls", [SGD, Adam])
def test_a_complex_gradient_is_refused_naming_the_parameter_before_anything_moves(cls):
    """SGD with a complex .grad kept its real part with only numpy's ComplexWarning."""
    model = nn.Linear(2, 3)
    opt = cls(model.parameters(), lr=0.1)
    before = model.weight.data.copy()
    model.weight.grad = np.ones((3, 2)) * (1 + 1j)
    with pytest.raises(TypeError, match=rf"{cls.__name__}\.step: the gradient of 'weight' \(parameter 0 of group 0\) "
                                        rf"has dtype complex128, but gradients hold real numbers"):
        opt.step()
    np.testing.assert_array_equal(model.weight.data, before)


def test_zero_grad():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_with_closure_returns_the_loss():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum() * 0.5
        loss.backward()
        return loss

    with mg.no_grad():  # the closure still builds its graph
        assert opt.step(closure).item() == pytest.approx(2.5)
    np.testing.assert_allclose(w.data, [0.9, -1.8])


# -- resuming --


@pytest.mark.parametrize("name", ["sgd weight decay", "sgd nesterov", "adam weight decay", "adamw"])
def test_resuming_from_a_checkpoint_continues_exactly(name, tmp_path):
    cls, kwargs = CONFIGS[name]

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            mlp_loss(*params, Tensor(X), Tensor(T), lambda a: a.relu()).backward()
            opt.step()

    straight = [Tensor(w.copy(), requires_grad=True) for w in WEIGHTS]
    train(straight, cls(straight, **kwargs), 4)

    first = [Tensor(w.copy(), requires_grad=True) for w in WEIGHTS]
    opt = cls(first, **kwargs)
    train(first, opt, 2)
    mg.save({"params": first, "optimizer": opt.state_dict()}, tmp_path / "ckpt.npz")
    train(first, opt, 1)  # later steps must not change what was saved

    saved = mg.load(tmp_path / "ckpt.npz")
    resumed = [Tensor(w, requires_grad=True) for w in saved["params"]]
    fresh = cls(resumed, lr=123.0)  # the saved options replace these
    fresh.load_state_dict(saved["optimizer"])
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    train(resumed, fresh, 2)
    for p, q in zip(resumed, straight):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_shape_like_pytorch():
    w, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], betas=(0.8, 0.9))
    half_square_step(opt, [w, b])
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1] == {"lr": 0.5, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                                     "maximize": False, "decoupled_weight_decay": False, "params": [1]}
    assert sorted(sd["state"]) == [0, 1] and sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["exp_avg"] is not opt.state[w]["exp_avg"]  # a snapshot


def test_load_state_dict_errors_name_what_differs():
    w, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = SGD([w, b], lr=0.1, momentum=0.9)
    half_square_step(opt, [w, b])
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="group 0 was saved with 2 parameters but has 1 here"):
        SGD([w], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="1 parameter groups but this optimiser has 2"):
        SGD([{"params": [w]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    swapped = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones((2, 3)), requires_grad=True)
    shapes = r"state\[0\]\['momentum_buffer'\] has shape \(2, 3\) but parameter 0 has shape \(2,\)"
    with pytest.raises(ValueError, match=shapes):
        SGD(list(swapped), lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"param_groups\[0\] has no \['betas', 'eps'\]"):
        Adam([w, b]).load_state_dict(sd)
    sd["param_groups"][0].update(betas=(0.9, 0.99), eps=1e-8)
    with pytest.raises(ValueError, match=r"state\[0\] has keys \['momentum_buffer'\] .* saved from another optimiser"):
        Adam([w, b]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"0.weight": np.ones(3)})


# -- invalid arguments --


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: SGD(p, lr=-0.1), "invalid learning rate: -0.1"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "invalid momentum: -0.5"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1), "invalid weight_decay: -1"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires momentum > 0 and dampening = 0"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda p: Adam(p, lr=-1e-3), "invalid learning rate: -0.001"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), r"invalid beta parameter at index 0: 1.0 \(it must be in \[0, 1\)\)"),
        (lambda p: AdamW(p, betas=(0.9, -0.1)), "invalid beta parameter at index 1: -0.1"),
        (lambda p: Adam(p, eps=-1e-8), "invalid epsilon: -1e-08"),
        (lambda p: AdamW(p, weight_decay=-0.01), "invalid weight_decay: -0.01"),
        (lambda p: SGD([{"params": p, "lr": -2.0}], lr=0.1), "invalid learning rate: -2.0"),
    ],
)
def test_invalid_options_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make([Tensor(np.ones(2), requires_grad=True)])


def test_invalid_parameter_lists():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam(p for p in [])
    with pytest.raises(ValueError, match=r"parameter 1 of group 0 \(shape \(2,\)\) appears more than once"):
        SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="parameter 0 of group 1 .* appears more than once"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="computed by a mul gate; only leaf tensors"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 of group 0 is of type ndarray"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="lr"):
        SGD([w])  # lr has no default


# -- learning-rate schedules --


def test_step_lr_by_hand():
    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])
    assert opt.param_groups[0]["lr"] == lrs[-1] and opt.param_groups[0]["initial_lr"] == 0.1


def test_cosine_by_hand():
    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    sched = CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(4):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.2 + 0.8 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)], rtol=1e-12)
    assert lrs[-1] == pytest.approx(0.2)


SCHEDULES = {
    "step": (StepLR, dict(step_size=3, gamma=0.5)),
    "step default gamma": (StepLR, dict(step_size=1)),
    "cosine": (CosineAnnealingLR, dict(T_max=5, eta_min=0.01)),
    "cosine past T_max": (CosineAnnealingLR, dict(T_max=3)),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_match_pytorch_epoch_by_epoch(name):
    torch = pytest.importorskip("torch")
    cls, kwargs = SCHEDULES[name]
    opt = SGD([{"params": [mg.ones(1, requires_grad=True)]}, {"params": [mg.ones(1)], "lr": 0.3}], lr=0.1)
    topt = torch.optim.SGD([{"params": [torch.ones(1)]}, {"params": [torch.ones(1)], "lr": 0.3}], lr=0.1)
    sched, tsched = cls(opt, **kwargs), getattr(torch.optim.lr_scheduler, cls.__name__)(topt, **kwargs)
    for epoch in range(13):
        assert sched.get_last_lr() == tsched.get_last_lr(), f"epoch {epoch}"
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


@pytest.mark.parametrize("name", ["step", "cosine"])
def test_schedule_resumes_from_its_state_dict(name, tmp_path):
    cls, kwargs = SCHEDULES[name]

    def run(opt, sched, epochs):
        lrs = []
        for _ in range(epochs):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs

    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    straight = run(opt, cls(opt, **kwargs), 9)

    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    sched = cls(opt, **kwargs)
    first = run(opt, sched, 4)
    mg.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")
    saved = mg.load(tmp_path / "ckpt.npz")
    opt2 = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    sched2 = cls(opt2, **kwargs)
    opt2.load_state_dict(saved["optimizer"])
    sched2.load_state_dict(saved["scheduler"])
    assert first + run(opt2, sched2, 5) == straight


def test_schedule_errors():
    opt = SGD([Tensor(np.ones(1), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer, got 2.5"):
        CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(TypeError, match="expected a minigrad optimiser, got list"):
        StepLR([opt], step_size=1)
    with pytest.raises(KeyError, match="no 'initial_lr'"):
        StepLR(opt, step_size=1, last_epoch=3)


def test_exports():
    assert optim.lr_scheduler.StepLR is StepLR and mg.optim.SGD is SGD


# -- PyTorch's implementation switches and Adam's decoupled_weight_decay (the audit of issue 17) --

SWITCHES = {SGD: ("foreach", "differentiable", "fused"), Adam: ("foreach", "capturable", "differentiable", "fused"),
            AdamW: ("foreach", "capturable", "differentiable", "fused"),
            RMSprop: ("capturable", "foreach", "differentiable"), Adagrad: ("foreach", "differentiable", "fused")}


@pytest.mark.parametrize("cls", list(SWITCHES), ids=lambda c: c.__name__)
def test_implementation_switches_are_accepted_and_change_nothing(cls):
    def run(**switches):
        w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
        opt = cls([w], lr=0.1, **switches)
        for _ in range(3):
            w.grad = w.data * 2 - 1
            opt.step()
        return w.data

    plain = run()
    defaults = {"foreach": None, "fused": None, "capturable": False, "differentiable": False}
    for name in SWITCHES[cls]:
        for value in ({True, False, None} if name == "foreach" else {defaults[name], False}):
            np.testing.assert_array_equal(run(**{name: value}), plain)
        if name == "foreach":
            continue
        with pytest.raises(ValueError, match=rf"{cls.__name__}: {name}=True is not supported: .*leave it at its "
                                             rf"default"):
            cls([Tensor(np.ones(2), requires_grad=True)], lr=0.1, **{name: True})
    with pytest.raises(TypeError, match=rf"{cls.__name__}: foreach must be None, True or False, got 'yes'"):
        cls([Tensor(np.ones(2), requires_grad=True)], lr=0.1, foreach="yes")


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_with_decoupled_weight_decay_is_adamw_as_in_torch(amsgrad, torch_on_one_thread):
    rng = np.random.default_rng(7)
    start, grads = rng.standard_normal((3, 4)), rng.standard_normal((6, 3, 4))

    def run(cls, **kw):
        w = Tensor(start.copy(), requires_grad=True)
        opt = cls([w], lr=0.05, weight_decay=0.3, amsgrad=amsgrad, **kw)
        for g in grads:
            w.grad = g.copy()
            opt.step()
        return w.data, opt

    ours, opt = run(Adam, decoupled_weight_decay=True)
    np.testing.assert_array_equal(ours, run(AdamW)[0])
    assert not np.allclose(ours, run(Adam)[0])
    assert opt.param_groups[0]["decoupled_weight_decay"] is True and AdamW([Tensor(np.ones(1), requires_grad=True)]
                                                                           ).param_groups[0]["decoupled_weight_decay"]
    if torch_on_one_thread is not None:
        torch = torch_on_one_thread
        t = torch.tensor(start.copy(), requires_grad=True)
        topt = torch.optim.Adam([t], lr=0.05, weight_decay=0.3, amsgrad=amsgrad, decoupled_weight_decay=True)
        for g in grads:
            t.grad = torch.tensor(g)
            topt.step()
        np.testing.assert_allclose(ours, t.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert topt.param_groups[0]["decoupled_weight_decay"] is True


def test_an_adamw_state_dict_from_before_decoupled_weight_decay_still_decouples():
    w = Tensor(np.ones(2), requires_grad=True)
    opt = AdamW([w], lr=0.1)
    sd = opt.state_dict()
    del sd["param_groups"][0]["decoupled_weight_decay"]  # as saved before the option existed
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
