"""MultiStepLR, ExponentialLR, LambdaLR, OneCycleLR and ReduceLROnPlateau: PyTorch's rates step by step, plain-data
state dicts that resume exactly through a checkpoint, and the errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor
from minigrad.optim import (
    SGD, Adagrad, Adam, ExponentialLR, LambdaLR, MultiStepLR, OneCycleLR, ReduceLROnPlateau, lr_scheduler,
)

STEPS = 30


class Warmup:
    """A callable object: its attributes are state, which LambdaLR saves (a plain function has none)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs) * 0.97**epoch


def quarter(epoch):
    return 0.5 ** (epoch // 4)


def two_groups(lib):
    """An optimiser with two parameter groups (rates 0.1 and 0.3), in minigrad (``lib`` None) or torch."""
    if lib is None:
        return lambda cls, **kw: cls([{"params": [mg.ones(1, requires_grad=True)]},
                                      {"params": [mg.ones(1, requires_grad=True)], "lr": 0.3}], lr=0.1, **kw)
    return lambda cls, **kw: getattr(lib.optim, cls.__name__)(
        [{"params": [lib.ones(1, requires_grad=True)]}, {"params": [lib.ones(1, requires_grad=True)], "lr": 0.3}],
        lr=0.1, **kw)


SCHEDULES = {
    "multistep": (SGD, {}, MultiStepLR, dict(milestones=[3, 7, 7, 20], gamma=0.5)),
    "multistep unsorted": (SGD, {}, MultiStepLR, dict(milestones=[12, 2])),
    "exponential": (SGD, {}, ExponentialLR, dict(gamma=0.9)),
    "lambda function": (SGD, {}, LambdaLR, dict(lr_lambda=quarter)),
    "lambda per group": (SGD, {}, LambdaLR, dict(lr_lambda=[quarter, lambda e: 1 / (1 + e)])),
    "lambda object": (SGD, {}, LambdaLR, dict(lr_lambda=Warmup(5))),
    "one cycle cos sgd": (SGD, dict(momentum=0.9), OneCycleLR, dict(max_lr=1.0, total_steps=STEPS)),
    "one cycle linear adam": (Adam, {}, OneCycleLR, dict(max_lr=[0.01, 0.05], total_steps=STEPS,
                                                         anneal_strategy="linear", pct_start=0.25)),
    "one cycle three phase": (SGD, dict(momentum=0.9), OneCycleLR, dict(max_lr=0.5, epochs=5, steps_per_epoch=6,
                                                                        three_phase=True, div_factor=10.0,
                                                                        final_div_factor=100.0)),
    "one cycle three phase linear": (Adam, {}, OneCycleLR, dict(max_lr=0.5, total_steps=STEPS, three_phase=True,
                                                                anneal_strategy="linear", base_momentum=0.8,
                                                                max_momentum=(0.9, 0.95))),
    "one cycle no momentum": (Adagrad, {}, OneCycleLR, dict(max_lr=0.2, total_steps=STEPS, cycle_momentum=False)),
}


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum", 0.0)


@pytest.mark.parametrize("name", SCHEDULES)
def test_rates_and_momenta_match_pytorch_step_by_step(name, torch_on_one_thread):
    torch = torch_on_one_thread or pytest.skip("torch is not installed (pip install torch==2.13.0)")
    opt_cls, opt_kw, cls, kwargs = SCHEDULES[name]
    opt, topt = two_groups(None)(opt_cls, **opt_kw), two_groups(torch)(opt_cls, **opt_kw)
    sched, tsched = cls(opt, **kwargs), getattr(torch.optim.lr_scheduler, cls.__name__)(topt, **kwargs)
    for step in range(STEPS):
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-15, abs=0), f"step {step}"
        for group, tgroup in zip(opt.param_groups, topt.param_groups):
            assert group["lr"] == pytest.approx(tgroup["lr"], rel=1e-15, abs=0), f"step {step}"
            assert momentum_of(group) == pytest.approx(momentum_of(tgroup), rel=1e-15), f"step {step}"
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


LOSSES = [1.0, 0.9, 0.95, 0.92, 0.91, 0.9, 0.905, 0.899, 0.899, 0.9, 0.8, 0.85, 0.86, 0.87, 0.88, 0.87, 0.86,
          0.7999, 0.8, 0.8, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
PLATEAUS = {
    "defaults": dict(patience=2),
    "abs threshold": dict(patience=1, threshold=0.05, threshold_mode="abs", factor=0.5),
    "cooldown": dict(patience=0, cooldown=2, factor=0.5),
    "min lr per group": dict(patience=0, factor=0.2, min_lr=[0.01, 0.05]),
    "eps stops tiny cuts": dict(patience=0, factor=0.5, min_lr=0.0123, eps=1e-3),
    "max mode": dict(mode="max", patience=1, threshold=0.01),
    "max mode abs": dict(mode="max", patience=0, threshold=0.02, threshold_mode="abs", cooldown=1),
}


@pytest.mark.parametrize("name", PLATEAUS)
def test_reduce_on_plateau_matches_pytorch_on_a_scripted_loss(name, torch_on_one_thread):
    torch = torch_on_one_thread or pytest.skip("torch is not installed (pip install torch==2.13.0)")
    kwargs = PLATEAUS[name]
    opt, topt = two_groups(None)(SGD), two_groups(torch)(SGD)
    sched, tsched = ReduceLROnPlateau(opt, **kwargs), torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for epoch, loss in enumerate(LOSSES):
        value = mg.tensor(loss, dtype="float64") if epoch % 3 == 0 else loss  # a 0-d Tensor, as a loss is
        sched.step(value)
        tsched.step(loss)
        assert sched.get_last_lr() == tsched.get_last_lr(), f"epoch {epoch}"
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == \
               (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter), f"epoch {epoch}"
    assert sched.get_last_lr() != [0.1, 0.3]  # the script does reach a plateau


def by_hand(opt, sched, steps, losses=None):
    lrs = []
    for k in range(steps):
        opt.step()
        sched.step(*([losses[k]] if losses else []))
        lrs.append(tuple(sched.get_last_lr()) + tuple(momentum_of(g) for g in opt.param_groups))
    return lrs


@pytest.mark.parametrize("name", [*SCHEDULES, "plateau"])
def test_resuming_from_a_checkpoint_continues_exactly(name, tmp_path):
    if name == "plateau":
        opt_cls, opt_kw, cls, kwargs = SGD, {}, ReduceLROnPlateau, dict(patience=1, cooldown=1, factor=0.5)
    else:
        opt_cls, opt_kw, cls, kwargs = SCHEDULES[name]
    losses = LOSSES if cls is ReduceLROnPlateau else None
    opt = two_groups(None)(opt_cls, **opt_kw)
    straight = by_hand(opt, cls(opt, **kwargs), 20, losses)

    opt = two_groups(None)(opt_cls, **opt_kw)
    sched = cls(opt, **kwargs)
    first = by_hand(opt, sched, 8, losses)
    mg.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")  # no pickle
    saved = mg.load(tmp_path / "ckpt.npz")
    opt2 = two_groups(None)(opt_cls, **opt_kw)
    sched2 = cls(opt2, **kwargs)
    opt2.load_state_dict(saved["optimizer"])
    sched2.load_state_dict(saved["scheduler"])
    assert first + by_hand(opt2, sched2, 12, losses[8:] if losses else None) == straight


def test_lambda_lr_saves_what_pytorch_saves_of_its_functions():
    opt = two_groups(None)(SGD)
    warmup = Warmup(5)
    sched = LambdaLR(opt, [quarter, warmup])
    assert sched.state_dict()["lr_lambdas"] == [None, {"epochs": 5}]
    warmup.epochs = 9
    other = Warmup(5)
    LambdaLR(two_groups(None)(SGD), [quarter, other]).load_state_dict(sched.state_dict())
    assert other.epochs == 9
    warmup.log = open  # not plain data: a checkpoint could not hold it
    with pytest.raises(TypeError, match=r"LambdaLR.state_dict: lr_lambdas\[1\] \(Warmup\) holds a "
                                        r"builtin_function_or_method, which a minigrad checkpoint cannot keep"):
        sched.state_dict()


def test_multistep_state_is_plain_data():
    sched = MultiStepLR(two_groups(None)(SGD), milestones=[2, 5, 5])
    state = sched.state_dict()
    assert type(state["milestones"]) is dict and state["milestones"] == {2: 1, 5: 2}
    state["milestones"][2] = 7
    assert sched.milestones[2] == 1  # a copy


def test_one_cycle_by_hand():
    opt = SGD([mg.ones(1, requires_grad=True)], lr=0.0, momentum=0.9)
    sched = OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=0.4, anneal_strategy="linear", div_factor=10.0,
                       final_div_factor=1.0)
    lrs = [sched.get_last_lr()[0]] + [sched.step() or sched.get_last_lr()[0] for _ in range(4)]
    np.testing.assert_allclose(lrs, [0.1, 1.0, 0.7, 0.4, 0.1])  # up in pct_start·5 − 1 = 1 step, down in 3
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    assert {"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"} <= set(opt.param_groups[0])
    with pytest.raises(ValueError, match=r"step 6 is past the end of the cycle \(total_steps=5\)"):
        sched.step(), sched.step()


def test_reduce_on_plateau_by_hand():
    opt = SGD([mg.ones(1, requires_grad=True)], lr=1.0)
    sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    rates = []
    for loss in [1.0, 1.0, 1.0, 0.5, 0.6, 0.6]:  # epochs 2-3 bad: cut; 4 better; 5-6 bad: cut again
        sched.step(loss)
        rates.append(opt.param_groups[0]["lr"])
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: MultiStepLR(o, milestones=[2.5]), TypeError, r"milestones must be a list of epochs \(ints\)"),
        (lambda o: LambdaLR(o, [quarter]), ValueError, "expected 2 lr_lambdas"),
        (lambda o: LambdaLR(o, 0.5), TypeError, "lr_lambda 0 must be a function of the epoch, got 0.5"),
        (lambda o: OneCycleLR(o, max_lr=1.0), ValueError, "give total_steps, or epochs and steps_per_epoch"),
        (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "total_steps must be a positive integer"),
        (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.5), ValueError, r"pct_start .* \[0, 1\]"),
        (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"), ValueError, "'cos' or 'linear'"),
        (lambda o: OneCycleLR(o, max_lr=[1.0], total_steps=9), ValueError, "max_lr has 1 values but the optimiser "
                                                                           "has 2 parameter groups"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be a number < 1"),
        (lambda o: ReduceLROnPlateau(o, mode="lowest"), ValueError, "mode must be 'min' .* or 'max'"),
        (lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold_mode must be 'rel' or 'abs'"),
        (lambda o: ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be an integer >= 0"),
        (lambda o: ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
        (lambda o: ReduceLROnPlateau(o).step("low"), TypeError, "the metric must be a number"),
        (lambda o: ReduceLROnPlateau(o).step(np.ones(2)), ValueError, r"one number, got an array of shape \(2,\)"),
        (lambda o: ExponentialLR([o], gamma=0.5), TypeError, "expected a minigrad optimiser, got list"),
    ],
)
def test_schedule_errors_name_the_argument(make, error, message):
    with pytest.raises(error, match=message):
        make(two_groups(None)(SGD))


def test_one_cycle_needs_momentum_or_betas_to_cycle():
    with pytest.raises(ValueError, match="Adagrad has neither momentum nor betas to cycle; pass cycle_momentum=False"):
        OneCycleLR(Adagrad([Tensor(np.ones(1), requires_grad=True)]), max_lr=0.1, total_steps=3)


def test_exports():
    for name in ("MultiStepLR", "ExponentialLR", "LambdaLR", "OneCycleLR", "ReduceLROnPlateau"):
        assert getattr(lr_scheduler, name) is getattr(mg.optim, name)
    assert math.isinf(ReduceLROnPlateau(two_groups(None)(SGD)).state_dict()["best"])


@pytest.mark.parametrize("cls", [MultiStepLR, ExponentialLR, LambdaLR, OneCycleLR, ReduceLROnPlateau])
def test_arguments_and_defaults_are_pytorchs(cls):
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(getattr(torch.optim.lr_scheduler, cls.__name__).__init__).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]
