"""``Function``: how every tensor gate is written -- minigrad's own and yours -- as ``torch.autograd.Function``.

    class Cube(mg.Function):
        formula = "dL/dx = 3x² · dL/dy"          # what str(step), the drawings and the pages print
        @staticmethod
        def forward(ctx, x):                    # numpy arrays in, a numpy array out
            ctx.save_for_backward(x)
            return x ** 3
        @staticmethod
        def backward(ctx, grad):                # dL/dy in, one dL/d(input) per input out
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad

    y = Cube.apply(t)

``ctx`` is the gate object itself, one per use: what ``forward`` saves lives on it until backward has
run (unless the graph is retained). ``apply`` passes the input Tensors' arrays to ``forward``, makes the
output a node of the graph when grad mode is on and an input requires grad, and keeps the version of
every input (and output) that ``forward`` saved, so changing one in place before backward is an error
that names the gate. The engine calls :meth:`Function.send`, which calls ``backward`` with the upstream
gradient and checks what comes back: one gradient per positional argument of ``forward`` (None where
none is needed), each of its input's shape -- or of a shape the input was broadcast to, summed back
here, the one place in minigrad where un-broadcasting happens (:func:`sum_to_shape`).

A gate whose rules are all elementwise (``Elementwise``, ``core/elementwise_gate.py``) needs no backward
of its own: it is ``local ⊙ upstream``, computed from the rules (``core/rules.py``).

(Over 400 lines because it is one class, the contract every gate meets, and its checks: what forward
may return, what backward may return -- with and without ``create_graph`` -- and what a definition may
declare; each check sits beside the step it guards, where the error it raises makes sense.)
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np

from .engine import GraphFreedError, modes
from .rules import Gate, Rule
from .tensor import Tensor


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the axes numpy broadcasting added or stretched, so it has ``shape``.

    ``(5, 13, 24, 16) -> (5, 1, 24, 1)`` sums axes 1 and 3 (keeping them); ``(4, 5) -> (5,)``
    sums the leading axis away.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Function(Gate):
    """A gate written the PyTorch way: ``forward(ctx, *arrays, **options)`` and ``backward(ctx, grad)``.

    Class attributes: ``formula`` (one string for every input, or a tuple with one per input; what
    the drawings and ``str(step)`` print), or ``rules`` (one :class:`~minigrad.core.rules.Rule` per input,
    as the built-in gates declare them); ``name`` (the step's ``gate``; the class name by default) and
    ``symbol`` (drawn in the gate's circle). ``view = True`` says the output may be a view of the first
    input's array (reshape, indexing), so the two share one version counter.

    On ``ctx``: ``save_for_backward(*arrays)``, ``saved_tensors``, ``needs_input_grad`` (one bool per
    input, set before ``backward`` runs: skip the gradients nobody needs) and any attribute you set --
    though ``create_graph`` refuses a numpy array kept as an attribute, unless forward was given it as
    an argument: one that depends on the inputs must be saved (see :meth:`backward_graph`).
    """

    name = None
    symbol = None
    view = False
    saved = ()  # per instance once forward saves; class defaults keep a gate's creation cheap
    versions = None  # (input index, version) of each saved input, when forward saved any
    out_version = None  # the output's version, when forward saved the output
    released = False
    needs_input_grad = None
    _positions = None  # where the Tensors were among forward's positional arguments, when not all were
    _args = None  # forward's positional arguments, kept only when some were not Tensors
    _options = None  # forward's keyword arguments (gradcheck_gates runs the gate again with them)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        declared = own.get("declared")
        if declared is not None:  # a declaration shared with the scalar gates (core/rules.py)
            cls.name, cls.symbol, cls.pattern, cls.hint = declared.name, declared.symbol, declared.pattern, declared.hint
            cls.rules, cls.saves = declared.rules, declared.saves
        if "formula" in own:  # a user's formula: one statement for all inputs, or one per input
            formula = own["formula"]
            delattr(cls, "formula")  # Gate.formula reads the rules made from it
            cls.rules = _rules_from(cls.__name__, formula, own.get("forward"))
        if cls.name is None:
            cls.name = cls.__name__
        if cls.symbol is None:
            cls.symbol = cls.name
        if not cls.rules:
            cls.rules = (Rule(None, f"dL/dx = {cls.name}.backward(ctx, dL/dy)"),)

    # -- ctx, as in PyTorch --

    def save_for_backward(self, *arrays):
        """Keep what backward needs (freed after backward unless the graph is retained)."""
        self.saved = arrays

    @property
    def saved_tensors(self):
        if self.released:
            raise GraphFreedError(
                f"{self.name}: trying to backward through the graph a second time (its saved arrays were "
                f"freed after the first backward); call backward(retain_graph=True) the first time"
            )
        return self.saved

    def release(self):
        self.saved = None
        self.released = True

    # -- making the output --

    @classmethod
    def apply(cls, *args, **options):
        """Run a new gate on ``args`` (Tensors become their arrays); the output joins the graph if an input requires grad."""
        return cls()._apply(args, options)

    def _apply(ctx, args, options):
        """``apply`` on this gate object, for callers that read what forward kept (max_pool2d's indices)."""
        cls = type(ctx)
        try:  # one and two inputs spelled out: a list comprehension costs a frame
            n = len(args)
            arrays = ([args[0]._data] if n == 1 else [args[0]._data, args[1]._data] if n == 2
                      else [x._data for x in args])
            inputs = args
        except AttributeError:  # non-Tensor positional arguments go to forward as they are
            arrays = [x._data if isinstance(x, Tensor) else x for x in args]
            inputs = tuple(x for x in args if isinstance(x, Tensor))
            ctx._positions = tuple(i for i, x in enumerate(args) if isinstance(x, Tensor))
            ctx._args = args
        ctx._options = options
        data = ctx._forward(arrays, options)
        if data.__class__ is not np.ndarray:
            data = _check_output(cls, data)
            if isinstance(data, tuple):
                from .outputs import several_outputs

                return several_outputs(ctx, inputs, data)
        out = None
        if modes.grad:
            for x in inputs:
                if x.requires_grad:
                    out = Tensor._make(data, ctx, tuple(inputs))
                    break
        if out is None:
            out = Tensor._make(data, None, ())
        if ctx.view and data.base is not None and inputs:
            first = inputs[0]._data
            if data.base is first or data.base is first.base or np.may_share_memory(data, first):
                out._vc = inputs[0]._vc
        if ctx.saved and out._gate is not None:
            ctx._note_versions(inputs, out)
        return out

    def _forward(self, arrays, options):
        return type(self).forward(self, *arrays, **options)

    def _note_versions(self, inputs, out):
        """Remember the versions of the inputs and the output, to notice in-place changes to what forward saved.

        Only the numbers are kept here, on the hot path of every gate; whether a changed input (or output)
        is one that forward saved is worked out in backward, only if its version did change."""
        n = len(inputs)
        self.versions = (((0, inputs[0]._vc[0]),) if n == 1 else ((0, inputs[0]._vc[0]), (1, inputs[1]._vc[0]))
                         if n == 2 else tuple([(i, x._vc[0]) for i, x in enumerate(inputs)]))
        self.out_version = out._vc[0]

    def _saved_shares(self, array):
        """Whether one of the arrays forward saved is ``array`` or a view into its memory."""
        for s in self.saved:
            if s.__class__ is np.ndarray and (s is array or np.may_share_memory(s, array)):
                return True
        return False

    # -- the engine's side --

    def _ready(self, node):
        """Before backward: the saved arrays are still there and unchanged; ``needs_input_grad`` set."""
        if self.released:
            self.saved_tensors  # noqa: B018 -- raises GraphFreedError, naming the gate
        inputs = node._inputs
        if self.versions is not None:
            self._check_versions(inputs)
        if self.out_version is not None and node._version != self.out_version and self._saved_shares(node._data):
            raise RuntimeError(
                f"{self.name}: its output (shape {node.shape}) was modified in place after {self.name} computed it "
                f"(version {self.out_version} -> {node._version}), but backward needs it; use an out-of-place "
                f"operation (y = y * 2 instead of y.mul_(2)) or y.clone() first"
            )
        self.needs_input_grad = needs = tuple([x.requires_grad for x in inputs])
        return inputs, needs

    def send(self, node, upstream):
        """The downstream gradients, one per input of ``node``: ``backward``'s, checked and summed to shape."""
        inputs, needs = self._ready(node)
        try:
            if upstream.__class__ is _Parts:  # several outputs: zeros for those no gradient reached, as PyTorch
                upstream = [np.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(upstream, self.outputs)]
                grads = type(self).backward(self, *upstream)
            else:
                grads = type(self).backward(self, upstream)
        except (ValueError, IndexError) as exc:
            text = str(exc)
            if "unpack" in text or "index out of range" in text:  # reading more saved arrays than forward kept?
                n = len(self.saved or ())
                kept = f"{n} array{'s' if n != 1 else ''}" if n else "nothing (ctx.save_for_backward was not called)"
                exc.add_note(f"{self.name}: forward saved {kept}; if backward reads ctx.saved_tensors, call "
                             f"ctx.save_for_backward(...) in forward with everything it reads")
            raise
        grads = self._per_input(grads, inputs)
        out = []
        for i, (x, g, need) in enumerate(zip(inputs, grads, needs)):
            if g is None or not need:
                out.append(None)
                continue
            if g.__class__ is not np.ndarray:
                g = self._array_grad(i, g)
            data = x._data  # the array itself: Tensor.shape and .dtype are properties, and this runs for every edge
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            if g.shape != data.shape:
                g = self._to_shape(i, g, data.shape)
            out.append(g)
        return out

    def _per_input(self, grads, inputs):
        """What a backward returned, as one gradient per input Tensor (checked)."""
        if grads.__class__ is not tuple and grads.__class__ is not list:
            grads = (grads,)
        if self._positions is not None:
            grads = self._tensor_grads(grads)
        if len(grads) != len(inputs):
            raise TypeError(
                f"{self.name}: backward returned {len(grads)} gradient{'s' if len(grads) != 1 else ''} but forward "
                f"took {len(inputs)} input{'s' if len(inputs) != 1 else ''}; return one gradient per input "
                f"(None where an input needs none)"
            )
        return grads

    # -- create_graph: the same gradients, as Tensors whose graphs can be differentiated again --

    def send_graph(self, node, upstream):
        """``send`` for ``backward(create_graph=True)``: the downstream gradients as Tensors built from gates."""
        inputs, needs = self._ready(node)
        if upstream.__class__ is _Parts:
            upstream = [Tensor(np.zeros(shape, dtype)) if g is None else g for g, (shape, dtype) in zip(upstream, self.outputs)]
            grads = self.backward_graph(node, *upstream)
        else:
            grads = self.backward_graph(node, upstream)
        grads = self._per_input(grads, inputs)
        out = []
        for i, (x, g, need) in enumerate(zip(inputs, grads, needs)):
            if g is None or not need:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                raise HigherOrderError(
                    f"{self.name}: with create_graph=True its backward returned {type(g).__name__} for input {i}, not "
                    f"a Tensor: the gradient left the graph (a numpy function turns a Tensor into an array), so it "
                    f"could not be differentiated again; write the backward with Tensor operations"
                )
            if g.dtype != x.dtype:
                g = g.astype(x.dtype)
            if g.shape != x.shape:
                self._check_fits(i, g.shape, x.shape)
                g = reduce_to(g, x.shape)
            out.append(g)
        return out

    def backward_graph(self, node, *upstream):
        """The gradients in Tensor operations. A gate written with ``mg.Function`` gets its own ``backward``
        called with Tensors: its saved arrays become the input (or output) Tensors they are, so a backward
        written with Tensor operations (``3 * x ** 2 * grad``) builds a graph. Arrays that are neither -- saved
        ones, or ones forward kept as ctx attributes (``ctx.x2 = x * x``) -- would be constants and the second
        derivative wrong, so they are refused, naming the gate (arrays forward was given as arguments are
        constants indeed, and pass)."""
        if type(self).backward is Function.backward:
            raise HigherOrderError(f"{self.name}: has no backward, so it cannot be differentiated at all")
        kept = next(self._kept_arrays(), None)
        if kept is not None:
            attribute, array = kept
            raise HigherOrderError(
                f"{self.name}: forward kept a numpy array (shape {array.shape}) as ctx.{attribute}; with "
                f"create_graph=True backward would use it as a constant, so the second derivative would be wrong "
                f"wherever it depends on the inputs. Save the inputs (or the output) it is made from with "
                f"ctx.save_for_backward and compute it in backward from ctx.saved_tensors (for ctx.x2 = x * x: "
                f"save x, use x * x); an array that does not depend on the inputs can be passed to apply as an "
                f"argument, and kept as it is"
            )
        saved = self.saved
        nodes = []
        for k, s in enumerate(saved):
            if s.__class__ is not np.ndarray:
                nodes.append(s)
                continue
            found = next((x for x in (*node._inputs, node) if s is x._data), None)
            if found is None:
                raise HigherOrderError(
                    f"{self.name}: saved array {k} (shape {s.shape}) is neither an input nor the output of the gate, "
                    f"so its second derivative would treat it as a constant; save only inputs and outputs and "
                    f"compute the rest in backward, or use create_graph=False"
                )
            nodes.append(found)
        self.saved = tuple(nodes)
        try:
            grads = type(self).backward(self, *upstream)
        except TypeError as exc:
            raise HigherOrderError(
                f"{self.name}: its backward does not work on Tensors ({exc}), so create_graph=True cannot "
                f"differentiate it again; write it with Tensor operations (x * grad, x.exp(), ...), not numpy's"
            ) from exc
        finally:
            self.saved = saved
        returned = grads if isinstance(grads, (tuple, list)) else (grads,)
        if any(isinstance(n, Tensor) and n.requires_grad for n in nodes) and not any(
                isinstance(g, Tensor) and g.requires_grad for g in returned):
            # it saved what requires grad, yet no gradient depends on it: .data or an array is the likely cause;
            # noted for the error a second autograd.grad of such a gradient raises (it has no graph to name it)
            modes.left_graph = self.name
        return grads

    _own = frozenset({"saved", "versions", "out_version", "released", "needs_input_grad", "_positions", "_args",
                      "_options", "outputs"})  # what Function itself keeps on ctx

    def _kept_arrays(self):
        """(attribute, array) for the numpy arrays forward kept as ctx attributes (in a tuple or list too),
        other than ones forward was given as arguments."""
        given = [*(self._args or ()), *(self._options or {}).values()]
        for attribute, value in vars(self).items():
            if attribute in self._own:
                continue
            for item in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(item, np.ndarray) and not any(item is a for a in given):
                    yield attribute, item

    def _tensor_grads(self, grads):
        n = self._positions[-1] + 1 if self._positions else 0
        if len(grads) < n:
            raise TypeError(
                f"{self.name}: backward returned {len(grads)} gradients but forward took at least {n} positional "
                f"arguments; return one per argument of forward (None for the ones that are not Tensors)"
            )
        positions = set(self._positions)
        for i, g in enumerate(grads):
            if g is not None and i not in positions:
                what = type(self._args[i]).__name__ if i < len(self._args) else "no argument"
                raise TypeError(
                    f"{self.name}: backward returned a gradient for argument {i} of forward, which is not a Tensor "
                    f"({what}); return None for it, as PyTorch requires"
                )
        return tuple(grads[i] for i in self._positions)

    def _array_grad(self, i, g):
        if isinstance(g, (numbers.Real, np.generic)):
            return np.asarray(g)
        if isinstance(g, Tensor):
            raise TypeError(
                f"{self.name}: backward returned a Tensor for input {i}; backward works on numpy arrays "
                f"(the upstream gradient is one) and must return numpy arrays"
            )
        raise TypeError(
            f"{self.name}: backward returned {type(g).__name__} for input {i}; return a numpy array (or None)"
        )

    def _to_shape(self, i, g, shape):
        self._check_fits(i, g.shape, shape)
        return sum_to_shape(g, shape)

    def _check_fits(self, i, gshape, shape):
        """A gradient may come in a shape its input was broadcast to; any other shape is an error."""
        try:
            fits = np.broadcast_shapes(shape, gshape) == gshape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{self.name}: backward returned a gradient of shape {gshape} for input {i}, which has shape "
                f"{shape}; the gradient must have its input's shape"
            )

    def _check_versions(self, inputs):
        for i, version in self.versions:
            x = inputs[i]
            if x._version != version and self._saved_shares(x._data):
                raise RuntimeError(
                    f"{self.name}: input {i} (shape {x.shape}) was modified in place after {self.name} used it "
                    f"(version {version} -> {x._version}), but backward needs its old value; "
                    f"use an out-of-place operation (x = x * 2 instead of x.mul_(2)) or x.clone() first"
                )

    @staticmethod
    def forward(ctx, *arrays, **options):
        raise NotImplementedError("a Function needs a forward(ctx, *arrays) staticmethod")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(f"{ctx.name} has no backward(ctx, grad); define one to backprop through it")


def _rules_from(name, formula, forward=None):
    if isinstance(formula, str):
        return (Rule(None, _printable(name, formula)),)
    if isinstance(formula, (tuple, list)) and formula and all(isinstance(f, str) for f in formula):
        formula = [_printable(name, f) for f in formula]
        n = _positional_count(forward)
        if n is not None and len(formula) != n:
            raise TypeError(
                f"{name}.formula has {len(formula)} string{'s' if len(formula) != 1 else ''} but {name}.forward takes "
                f"{n} input{'s' if n != 1 else ''}; "
                f"give one string per input, or a single string for all of them"
            )
        return tuple(Rule(None, f) for f in formula)
    raise TypeError(f"{name}.formula must be a string, or a tuple with one string per input; got {formula!r}")


def _printable(name, text):
    """A formula without control characters (tab and newline aside): dot and the pages cannot draw a NUL."""
    bad = next((i for i, ch in enumerate(text) if ord(ch) < 32 and ch not in "\t\n\r"), None)
    if bad is not None:
        raise ValueError(f"{name}.formula holds the control character {text[bad]!r} (U+{ord(text[bad]):04X}) at "
                         f"position {bad}, which no drawing can show; remove it")
    return text


def _positional_count(forward):
    """How many inputs ``forward(ctx, ...)`` takes, or None when it takes ``*args`` (or cannot be read)."""
    if isinstance(forward, staticmethod):
        forward = forward.__func__
    try:
        params = list(inspect.signature(forward).parameters.values())[1:]  # after ctx
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)


def _check_output(cls, data):
    """forward's result as an array (or a tuple of arrays), or a TypeError naming the gate."""
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, tuple) and data and all(isinstance(d, (np.ndarray, np.generic)) for d in data):
        return tuple(np.asarray(d) for d in data)
    what = "a minigrad Tensor" if isinstance(data, Tensor) else f"{type(data).__name__}"
    raise TypeError(
        f"{cls.name}.forward returned {what}; forward works on numpy arrays (its inputs are the Tensors' "
        f"arrays) and must return a numpy array, or a tuple of them for several outputs"
    )


class HigherOrderError(RuntimeError):
    """A gate reached by ``create_graph=True`` whose gradient cannot be differentiated again (names the gate)."""


def reduce_to(g, shape):
    """``sum_to_shape`` in Tensor operations (differentiable), for gradients of ``create_graph``."""
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    return g.reshape(shape) if g.shape != shape else g


class _Parts(tuple):
    """The gradients of a gate with several outputs, one slot per output (None until it arrives):
    the engine adds them as it adds any gradients (``core/outputs.py``)."""

    __slots__ = ()

    def __add__(self, other):
        return _Parts(a if b is None else b if a is None else a + b for a, b in zip(self, other))

    def summarize(self, summary):
        return _Parts(summary(p) for p in self)
