"""Losses: gradcheck for every reduction and option, the numbers by hand, logits of ±1000, clear errors, PyTorch."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.ops.activation import log_softmax
from minigrad.ops.loss import binary_cross_entropy, cross_entropy, kl_div, mse_loss, nll_loss

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]

LOGITS = rng.standard_normal((5, 4)) * 2
TARGET = np.array([0, 3, 1, 1, 2])
LOGITS_2D = rng.standard_normal((2, 3, 2, 3))  # (N, C, d1, d2)
TARGET_2D = rng.integers(0, 3, (2, 2, 3))
A, B = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
LOG_Q = np.log(rng.dirichlet(np.ones(4), 3))  # log-probabilities, rows of 4
P = rng.dirichlet(np.ones(4), 3)  # probabilities, all > 0
Q, T = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4))


# -- gradients, every reduction ------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("logits,target", [(LOGITS, TARGET), (LOGITS_2D, TARGET_2D), (LOGITS[0], TARGET[0])],
                         ids=["N,C", "N,C,d1,d2", "C"])
def test_cross_entropy_and_nll_gradcheck(reduction, logits, target):
    assert gradcheck(lambda z: cross_entropy(z, target, reduction=reduction), [logits])
    assert gradcheck(lambda a: nll_loss(a, target, reduction=reduction), [logits])


# cross_entropy / nll_loss options: class weights, ignored targets (some -100s, or a class in range), smoothing
WEIGHTS = {4: np.array([0.5, 1.0, 2.0, 3.0]), 3: np.array([0.5, 2.0, 1.5])}  # by C
TARGET_IGNORED = np.array([0, -100, 1, -100, 2])
TARGET_2D_IGNORED = TARGET_2D.copy()
TARGET_2D_IGNORED[0, 0, 0] = TARGET_2D_IGNORED[1, 1, 2] = -100
SHAPES = {  # logits, target, target with some ignored
    "N,C": (LOGITS, TARGET, TARGET_IGNORED),
    "N,C,d1,d2": (LOGITS_2D, TARGET_2D, TARGET_2D_IGNORED),
    "C": (LOGITS[0], TARGET[0], TARGET[0]),  # one unbatched target: ignoring it is tested with all-ignored below
}
OPTIONS = ["weight", "ignore", "smoothing", "weight+ignore", "weight+smoothing", "ignore+smoothing",
           "weight+ignore+smoothing", "weight+ignore_index=1+smoothing"]


def _with_options(shape, options):
    """Logits, target and the keyword arguments for a '+'-joined list of options."""
    logits, target, ignored = SHAPES[shape]
    classes = logits.shape[0 if logits.ndim == 1 else 1]
    kwargs = {}
    for option in options.split("+"):
        if option == "weight":
            kwargs["weight"] = WEIGHTS[classes]
        elif option == "ignore":
            target = ignored
        elif option == "ignore_index=1":
            kwargs["ignore_index"] = 1
        elif option == "smoothing":
            kwargs["label_smoothing"] = 0.1
    return logits, target, kwargs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", OPTIONS)
def test_cross_entropy_and_nll_options_gradcheck(options, shape, reduction):
    logits, target, kwargs = _with_options(shape, options)
    assert gradcheck(lambda z: cross_entropy(z, target, reduction=reduction, **kwargs), [logits])
    if "label_smoothing" not in kwargs:
        assert gradcheck(lambda a: nll_loss(a, target, reduction=reduction, **kwargs), [logits])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_gradcheck_for_both_inputs(reduction):
    assert gradcheck(lambda x, y: mse_loss(x, y, reduction), [A, B])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # as PyTorch warns
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
def test_kl_div_gradcheck_for_both_inputs(reduction):
    assert gradcheck(lambda a, p: kl_div(a, p, reduction), [LOG_Q, P])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_gradcheck_for_both_inputs(reduction):
    assert gradcheck(lambda q, t: binary_cross_entropy(q, t, reduction), [Q, T])


# -- the numbers -----------------------------------------------------------------------------------


def test_cross_entropy_by_hand():
    z = Tensor(np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), requires_grad=True)
    loss = cross_entropy(z, np.array([2, 0]))
    e = np.exp([1.0, 2.0, 3.0])
    expected = [np.log(e.sum()) - 3.0, np.log(3.0)]  # −log softmax(z)[t] = log Σ eᶻ − z[t]
    np.testing.assert_allclose(loss.item(), np.mean(expected))
    loss.backward()
    onehot = np.array([[0, 0, 1], [1, 0, 0]])
    probs = np.array([e / e.sum(), [1 / 3] * 3])
    np.testing.assert_allclose(z.grad, (probs - onehot) / 2)  # (softmax − onehot)/N
    assert loss._gate.name == "cross_entropy" and loss._inputs == (z,)


def test_cross_entropy_with_weight_ignore_index_and_smoothing_by_hand():
    # C = 3, w = [1, 2, 3], ε = 0.3 so ε/C = 0.1; each row's target is q = 0.7·w[t]·onehot(t) + 0.1·w
    z = Tensor(np.log([[1.0, 1.0, 2.0],   # p = [1/4, 1/4, 1/2]
                       [1.0, 3.0, 1.0],   # p = [1/5, 3/5, 1/5]
                       [9.0, 1.0, 5.0]]), requires_grad=True)  # ignored: any logits
    target, w = np.array([2, 0, -100]), np.array([1.0, 2.0, 3.0])
    ln2, ln3, ln5 = np.log([2.0, 3.0, 5.0])
    # row 0, t = 2: 0.7·3·ln 2 + 0.1·(1·ln 4 + 2·ln 4 + 3·ln 2) = 2.1 ln 2 + 0.9 ln 2 = 3 ln 2
    # row 1, t = 0: 0.7·1·ln 5 + 0.1·(1·ln 5 + 2·(ln 5 − ln 3) + 3·ln 5) = 1.3 ln 5 − 0.2 ln 3
    # row 2 is ignored: 0
    losses = [3 * ln2, 1.3 * ln5 - 0.2 * ln3, 0.0]
    none = cross_entropy(z, target, w, reduction="none", label_smoothing=0.3)
    np.testing.assert_allclose(none.data, losses)
    loss = cross_entropy(z, target, w, label_smoothing=0.3)
    np.testing.assert_allclose(loss.item(), sum(losses) / 4)  # "mean" ÷ (w[2] + w[0]) = 3 + 1, ≈ 0.987997
    loss.backward()
    # row 0: q = [0.1, 0.2, 2.4], Σq = 2.7: 2.7·[1/4, 1/4, 1/2] − q = [0.575, 0.475, −1.05]
    # row 1: q = [0.8, 0.2, 0.3], Σq = 1.3: 1.3·[1/5, 3/5, 1/5] − q = [−0.54, 0.58, −0.04]
    # row 2 gets nothing; every row ÷ 4 for the mean
    np.testing.assert_allclose(z.grad, np.array([[0.575, 0.475, -1.05], [-0.54, 0.58, -0.04], [0, 0, 0]]) / 4)
    assert loss._gate.local(loss) == ("dL/dz = (Σq·softmax(z) − q)·dL/dloss / Σ w[t], q = weighted, smoothed onehot(t)",)


def test_nll_loss_with_weight_and_ignore_index_by_hand():
    a = Tensor(np.array([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]]), requires_grad=True)
    loss = nll_loss(a, np.array([1, 0, 7]), np.array([2.0, 0.5]), ignore_index=7)  # 7 is out of range, but ignored
    # (0.5·2 + 2·3 + 0) / (0.5 + 2) = 7 / 2.5 = 2.8
    np.testing.assert_allclose(loss.item(), 2.8)
    loss.backward()
    np.testing.assert_allclose(a.grad, [[0.0, -0.5 / 2.5], [-2 / 2.5, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("fn", [cross_entropy, nll_loss])
def test_all_targets_ignored_mean_is_nan_and_gradients_are_zero(fn):
    # as PyTorch: "mean" is 0/0 = nan, "sum" 0; no gradient reaches the ignored rows, even through the nan
    for logits, target in [(LOGITS, np.full(5, -100)), (LOGITS[0], np.array(-100))]:
        for kwargs in [{}, {"weight": WEIGHTS[4]}] + [{"label_smoothing": 0.1}] * (fn is cross_entropy):
            z = Tensor(logits.copy(), requires_grad=True)
            loss = fn(z, target, **kwargs)
            assert np.isnan(loss.item())
            loss.backward()
            assert (z.grad == 0).all()
            assert fn(Tensor(logits), target, reduction="sum", **kwargs).item() == 0.0
            assert (fn(Tensor(logits), target, reduction="none", **kwargs).data == 0).all()


def test_class_weights_and_smoothing_properties():
    z = Tensor(LOGITS)
    plain = cross_entropy(z, TARGET, reduction="none").data
    # equal weights cancel in the mean; in "none" they scale every term
    np.testing.assert_allclose(cross_entropy(z, TARGET, np.full(4, 3.0)).item(), plain.mean())
    np.testing.assert_allclose(cross_entropy(z, TARGET, np.full(4, 3.0), reduction="none").data, 3 * plain)
    # without smoothing, cross_entropy is nll_loss of log_softmax with the same options
    kwargs = {"weight": WEIGHTS[4], "ignore_index": 1}
    np.testing.assert_allclose(cross_entropy(z, TARGET, **kwargs).data, nll_loss(log_softmax(z, 1), TARGET, **kwargs).data)
    # ε = 1: the target is uniform, −(1/C)·Σ_c w[c]·log p[c] whatever the class
    log_p = log_softmax(z, 1).data
    np.testing.assert_allclose(cross_entropy(z, TARGET, WEIGHTS[4], reduction="none", label_smoothing=1.0).data,
                               -(log_p @ WEIGHTS[4]) / 4)
    # weight is a constant of the logits' dtype: a Tensor that requires grad gets none, float64 keeps float32 logits
    w = Tensor(WEIGHTS[4], requires_grad=True)
    z32 = Tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = cross_entropy(z32, TARGET, w, label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and z32.grad.dtype == np.float32 and w.grad is None


def test_cross_entropy_is_finite_for_logits_of_1000():
    z = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]]), requires_grad=True)
    losses = cross_entropy(z, np.array([0, 0, 1]), reduction="none")
    np.testing.assert_allclose(losses.data, [0.0, 2000.0, np.log(2.0)])
    loss = cross_entropy(z, np.array([0, 0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad).all()
    np.testing.assert_allclose(z.grad, np.array([[0.0, 0.0], [-1.0, 1.0], [0.5, -0.5]]) / 3)
    z32 = Tensor(np.array([[1000.0, -1000.0]], dtype=np.float32))
    assert cross_entropy(z32, np.array([1])).item() == 2000.0


def test_cross_entropy_equals_nll_of_log_softmax_and_accepts_tensor_targets():
    z = Tensor(LOGITS)
    fused = cross_entropy(z, Tensor(TARGET))
    composed = nll_loss(log_softmax(z, 1), TARGET)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)


def test_reductions_relate():
    none = cross_entropy(Tensor(LOGITS_2D), TARGET_2D, reduction="none")
    assert none.shape == (2, 2, 3)
    np.testing.assert_allclose(cross_entropy(Tensor(LOGITS_2D), TARGET_2D, reduction="sum").item(), none.data.sum())
    np.testing.assert_allclose(cross_entropy(Tensor(LOGITS_2D), TARGET_2D).item(), none.data.mean())
    mse = mse_loss(Tensor(A), B, reduction="none").data
    np.testing.assert_allclose(mse, (A - B) ** 2)
    np.testing.assert_allclose(mse_loss(Tensor(A), B).item(), mse.mean())


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # as PyTorch warns
def test_kl_div_batchmean_divides_by_the_batch_size_and_0_log_0_is_0():
    p = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    a = np.log(np.array([[0.2, 0.4, 0.4], [1 / 3, 1 / 3, 1 / 3]]))
    pointwise = kl_div(Tensor(a), p, reduction="none").data
    assert pointwise[0, 0] == 0.0  # 0·(log 0 − a) = 0
    np.testing.assert_allclose(pointwise[1], p[1] * (np.log(p[1]) - a[1]))
    np.testing.assert_allclose(kl_div(Tensor(a), p).item(), pointwise.sum() / 2)  # batchmean: ÷ N = 2
    np.testing.assert_allclose(kl_div(Tensor(a), p, "mean").item(), pointwise.sum() / 6)
    np.testing.assert_allclose(kl_div(Tensor(a), p, "sum").item(), pointwise.sum())


def test_binary_cross_entropy_by_hand_and_the_clamp():
    q = Tensor(np.array([0.8, 0.3, 0.0, 1.0]), requires_grad=True)
    t = np.array([1.0, 0.0, 1.0, 1.0])
    losses = binary_cross_entropy(q, t, reduction="none")
    np.testing.assert_allclose(losses.data, [-np.log(0.8), -np.log(0.7), 100.0, 0.0])  # log 0 clamped at −100
    binary_cross_entropy(q, t, "sum").backward()
    assert np.isfinite(q.grad).all()
    np.testing.assert_allclose(q.grad[:2], [-1 / 0.8, 1 / 0.7])


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [cross_entropy, nll_loss])
def test_class_target_errors(fn):
    op = fn.__name__
    z = Tensor(LOGITS)
    with pytest.raises(IndexError, match=f"{op}: target holds class 4, but the input has only C = 4 classes"):
        fn(z, np.array([0, 4, 1, 1, 2]))
    with pytest.raises(IndexError, match=r"target holds class -1, .* \(valid targets are 0..3\)"):
        fn(z, np.array([0, -1, 1, 1, 2]))
    with pytest.raises(TypeError, match=rf"{op}: target has dtype float64, .* integer class indices; .*y.astype\(np.int64\)"):
        fn(z, TARGET.astype(np.float64))
    with pytest.raises(ValueError, match=rf"{op}: input has batch size 5 \(shape \(5, 4\)\) but target has batch size 3"):
        fn(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target has shape \(2, 3, 2\) but input \(2, 3, 2, 3\) needs class indices of shape \(2, 2, 3\)"):
        fn(Tensor(LOGITS_2D), np.zeros((2, 3, 2), dtype=np.int64))


def test_class_loss_option_errors():
    z = Tensor(LOGITS)
    with pytest.raises(ValueError, match=r"cross_entropy: weight has shape \(3,\), but the input \(5, 4\) has C = 4 "
                                         r"classes; give one weight per class, shape \(4,\)"):
        cross_entropy(z, TARGET, np.ones(3))
    with pytest.raises(ValueError, match=r"nll_loss: weight has shape \(1, 4\), .* shape \(4,\)"):
        nll_loss(z, TARGET, np.ones((1, 4)))
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\] .*, got"):
            cross_entropy(z, TARGET, label_smoothing=bad)
    for bad in ("0.1", None, True):  # was numpy's "'<=' not supported between instances of 'float' and 'str'"
        with pytest.raises(TypeError, match=r"cross_entropy: label_smoothing must be a number in \[0, 1\], got"):
            cross_entropy(z, TARGET, label_smoothing=bad)
    with pytest.raises(TypeError, match="nll_loss: ignore_index must be an integer class index, got 1.0"):
        nll_loss(z, TARGET, ignore_index=1.0)
    # PyTorch's third positional argument is weight: an old call cross_entropy(z, t, "sum") says so
    with pytest.raises(TypeError, match=r"cross_entropy: weight must be .* got 'sum'; .* reduction='sum'"):
        cross_entropy(z, TARGET, "sum")
    # a target is out of range unless it is the ignore_index; the error says which one that is
    with pytest.raises(IndexError, match=r"target holds class -100, .*0..3\); targets equal to ignore_index \(-1\)"):
        cross_entropy(z, TARGET_IGNORED, ignore_index=-1)
    cross_entropy(z, np.array([0, 9, 1, 9, 2]), ignore_index=9)  # 9 is ignored, so out of range is fine


def test_pointwise_loss_shape_errors():
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(3, 4\) but target has shape \(4,\); they must be equal"):
        mse_loss(Tensor(A), np.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input has shape \(3, 4\) but target has shape \(3, 1\)"):
        binary_cross_entropy(Tensor(Q), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"kl_div: log_input has shape \(3, 4\) but target has shape \(4, 3\)"):
        kl_div(Tensor(LOG_Q), P.T)


def test_binary_cross_entropy_needs_probabilities():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: .* in \[0, 1\], but they range from -0.5 to 2; apply sigmoid"):
        binary_cross_entropy(Tensor(np.array([-0.5, 2.0])), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="range from nan"):
        binary_cross_entropy(Tensor(np.array([np.nan, 0.5])), np.array([0.0, 1.0]))


def test_unknown_reduction():
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        cross_entropy(Tensor(LOGITS), TARGET, reduction="avg")
    with pytest.raises(ValueError, match="kl_div: reduction must be one of 'batchmean', 'mean', 'sum', 'none'"):
        kl_div(Tensor(LOG_Q), P, reduction="max")


# -- against PyTorch (skipped when it is not installed) ---------------------------------------------


def _their(torch, name):
    return getattr(torch.nn.functional, name)


CASES = {
    "cross_entropy": (cross_entropy, [LOGITS], TARGET),
    "cross_entropy spatial": (cross_entropy, [LOGITS_2D], TARGET_2D),
    "nll_loss": (nll_loss, [LOG_Q], np.array([3, 0, 2])),
    "nll_loss spatial": (nll_loss, [LOGITS_2D], TARGET_2D),
    "mse_loss": (mse_loss, [A, B], None),
    "kl_div": (kl_div, [LOG_Q, P], None),
    "binary_cross_entropy": (binary_cross_entropy, [Q, T], None),
}


PAIRS = [(case, r) for case in CASES for r in REDUCTIONS + ["batchmean"] * (CASES[case][0] is kl_div)]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # PyTorch's kl_div "mean" warning
@pytest.mark.parametrize("case,reduction", PAIRS)
def test_losses_match_pytorch(case, reduction, torch_on_one_thread):
    torch = pytest.importorskip("torch")
    fn, arrays, target = CASES[case]
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    if target is not None:
        ours.append(target)
        theirs.append(torch.tensor(target))
    y = fn(*ours, reduction=reduction)
    ref = _their(torch, fn.__name__)(*theirs, reduction=reduction)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = rng.standard_normal(ref.shape)
    y.backward(up)
    ref.backward(torch.tensor(up))
    for o, t in zip(ours, theirs):
        if isinstance(o, Tensor):
            np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


GRID = [(fn, shape, options, reduction)
        for fn in ("cross_entropy", "nll_loss")
        for shape in ("N,C", "N,C,d1,d2")
        for options in ["none", "weight", "ignore", "weight+ignore"]
        + ["smoothing", "weight+smoothing", "ignore+smoothing", "weight+ignore+smoothing"] * (fn == "cross_entropy")
        for reduction in REDUCTIONS]


@pytest.mark.parametrize("fn,shape,options,reduction", GRID)
def test_class_loss_options_match_pytorch(fn, shape, options, reduction, torch_on_one_thread):
    torch = pytest.importorskip("torch")
    logits, target, kwargs = _with_options(shape, options)
    ours = Tensor(logits.copy(), requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    y = globals()[fn](ours, target, reduction=reduction, **kwargs)
    if "weight" in kwargs:
        kwargs["weight"] = torch.tensor(kwargs["weight"])
    ref = _their(torch, fn)(theirs, torch.tensor(target), reduction=reduction, **kwargs)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = rng.standard_normal(ref.shape)
    y.backward(up)
    ref.backward(torch.tensor(up))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_and_all_ignored_match_pytorch(reduction, torch_on_one_thread):
    torch = pytest.importorskip("torch")
    w = WEIGHTS[4]
    for logits, target, ignore_index in [(LOGITS[0], np.array(3), -100), (LOGITS[0], np.array(3), 3),
                                         (LOGITS, np.full(5, -100), -100)]:
        ours = Tensor(logits.copy(), requires_grad=True)
        theirs = torch.tensor(logits, requires_grad=True)
        kwargs = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": 0.2}
        y = cross_entropy(ours, target, w, **kwargs)
        ref = torch.nn.functional.cross_entropy(theirs, torch.tensor(target), torch.tensor(w), **kwargs)
        np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)  # nan where PyTorch's is
        y.backward(np.ones(y.shape))
        ref.backward(torch.ones(ref.shape, dtype=torch.float64))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_loss_package_gives_every_name_the_single_module_gave():
    # minigrad/ops/loss/ keeps the class-index and the pointwise losses apart; the old path gives all of them
    import minigrad.ops.loss as loss
    from minigrad.nn import functional as F
    from minigrad.ops.loss import class_index, pointwise, reduction

    for name in ("cross_entropy", "nll_loss", "CrossEntropy", "NLLLoss"):
        assert getattr(loss, name) is getattr(class_index, name)
    for name in ("mse_loss", "kl_div", "binary_cross_entropy", "MSELoss", "KLDiv", "BinaryCrossEntropy"):
        assert getattr(loss, name) is getattr(pointwise, name)
    assert loss.REDUCTIONS is reduction.REDUCTIONS == ("mean", "sum", "none")
    assert F.cross_entropy is loss.cross_entropy and F.binary_cross_entropy is loss.binary_cross_entropy
