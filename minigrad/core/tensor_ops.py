"""The operators and methods of ``Tensor`` that hand over to a gate in ``ops/``, and its in-place changes.

``Tensor`` (``core/tensor.py``) is the node: its array, its place in the graph, backward and hooks. Its
methods that mirror ``torch.Tensor``'s operations live here, in :class:`TensorOps`, a base class without
fields of its own: each is a line or two that hands over to a gate (``x * y`` is ``ops/elementwise.py``'s
mul, ``x.sum()`` ``ops/reduce.py``'s Sum). The gates import ``Tensor``, so the ``ops`` modules are bound
here by :func:`bind_ops`, which ``core/tensor.py`` calls once ``Tensor`` exists.

(Over 400 lines because it is a list: one short method per operation of ``torch.Tensor`` that minigrad
has, which a reader looks up rather than reads through.)
"""
from __future__ import annotations

import numpy as np

from . import engine

Tensor = None  # core/tensor.py's class (bound with the ops modules: it is defined after this one)


class TensorOps:
    """The operations of a Tensor, each a gate in ``ops/``; in-place changes raise its version."""

    __slots__ = ()

    # -- operators: each is a gate in ops/ --

    def __add__(self, other):
        return _ew.add(self, other)

    def __radd__(self, other):
        return _ew.add(self, other, reflected=True)

    def __sub__(self, other):
        return _ew.sub(self, other)

    def __rsub__(self, other):
        return _ew.sub(self, other, reflected=True)

    def __mul__(self, other):
        return _ew.mul(self, other)

    def __rmul__(self, other):
        return _ew.mul(self, other, reflected=True)

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(self, other, reflected=True)

    def __pow__(self, exponent):
        return _ew.power(self, exponent)

    def pow(self, exponent):
        return _ew.power(self, exponent)

    def __rpow__(self, base):
        return _ew.rpower(self, base)

    def __floordiv__(self, other):
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(self, other, reflected=True)

    def __mod__(self, other):
        return _ew.remainder(self, other)

    def __rmod__(self, other):
        return _ew.remainder(self, other, reflected=True)

    def __neg__(self):
        return _ew.Neg.apply(self)

    neg = __neg__

    @property
    def T(self):
        """The tensor with its axes reversed (a transpose for 2-D), as PyTorch's ``.T``, which warns, as here, that
        this is deprecated for other than 2 dimensions; ``.mT`` transposes the last two."""
        if self.ndim != 2:
            import warnings

            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                          "(as in PyTorch); use `x.mT` to transpose batches of matrices or `x.permute(*reversed("
                          "range(x.ndim)))` to reverse the dimensions", UserWarning, stacklevel=2)
        return self.permute(*range(self.ndim - 1, -1, -1)) if self.ndim > 1 else self

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed), as ``torch.Tensor.mT``."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got a tensor of shape {self.shape}")
        return self.transpose(-2, -1)

    def __matmul__(self, other):
        return _mm.matmul(self, other)

    def __rmatmul__(self, other):
        return _mm.rmatmul(self, other)

    def __getitem__(self, index):
        return _sh.index(self, index)

    # comparisons give boolean tensors outside the graph, as in PyTorch (ops/compare.py: gates only while
    # mg.onnx.export traces, so a model that computes with them exports right)
    def __eq__(self, other):
        return _cmp.compare("eq", self, other)

    def __ne__(self, other):
        return _cmp.compare("ne", self, other)

    def __lt__(self, other):
        return _cmp.compare("lt", self, other)

    def __le__(self, other):
        return _cmp.compare("le", self, other)

    def __gt__(self, other):
        return _cmp.compare("gt", self, other)

    def __ge__(self, other):
        return _cmp.compare("ge", self, other)

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self._data)

    def any(self):
        return bool(self._data.any())

    def all(self):
        return bool(self._data.all())

    # -- elementwise --

    def exp(self):
        return _ew.Exp.apply(self if self._data.dtype.kind == "f" else _dt.floating(self))

    def log(self):
        return _ew.Log.apply(self if self._data.dtype.kind == "f" else _dt.floating(self))

    def sqrt(self):
        return _ew.Sqrt.apply(self if self._data.dtype.kind == "f" else _dt.floating(self))

    def abs(self):
        return _ew.Abs.apply(self)

    def relu(self):
        return _ew.Relu.apply(self)

    def sigmoid(self):
        return _ew.Sigmoid.apply(self if self._data.dtype.kind == "f" else _dt.floating(self))

    def tanh(self):
        return _ew.Tanh.apply(self if self._data.dtype.kind == "f" else _dt.floating(self))

    def erf(self):
        return _special.erf(self)

    def clamp(self, min=None, max=None):
        """Elements limited to [min, max] (numbers or tensors; either may be None), as ``torch.clamp``."""
        return _clamp.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return _clamp.clamp(self, min, None)

    def clamp_max(self, max):
        return _clamp.clamp(self, None, max)

    def clamp_(self, min=None, max=None):
        """``clamp`` in place (under ``no_grad`` for a tensor that requires grad, as the other in-place changes)."""
        out = _clamp.clamp(Tensor._make(self._data, None, ()), min, max)  # checks and dtype rules, no graph
        if out.dtype != self.dtype:
            raise TypeError(f"clamp_: the result has dtype {out.dtype} and cannot be stored in this {self.dtype} "
                            f"tensor in place; use clamp()")
        return self._inplace("clamp_", lambda a: np.copyto(a, out._data))

    clip_ = clamp_

    def softmax(self, dim):
        return _act.softmax(self, dim)

    def log_softmax(self, dim):
        return _act.log_softmax(self, dim)

    def clone(self):
        return _ew.Clone.apply(self)

    def float(self):
        return _ew.cast(self, np.float32)

    def double(self):
        return _ew.cast(self, np.float64)

    def astype(self, dtype):
        return _ew.cast(self, dtype)

    # -- reductions --

    def sum(self, dim=None, keepdim=False):
        return _red.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return _red.Mean.apply(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, keepdim=False, unbiased=False, *, correction=None):
        """Variance over ``dim``: biased unless ``unbiased=True`` (or ``correction``, subtracted from N)."""
        return _red.Var.apply(self, dim=dim, keepdim=keepdim, unbiased=unbiased, correction=correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        """Standard deviation over ``dim``, unbiased by default as ``torch.std``: √var."""
        return _red.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        """Maxima over ``dim`` (torch.amax semantics: a tie splits the gradient evenly); ``x.max(other)``
        with a Tensor is ``maximum``."""
        if isinstance(dim, Tensor):
            return _ew.maximum(self, dim)
        return _red.Max.apply(self, dim=dim, keepdim=keepdim)

    def min(self, dim=None, keepdim=False):
        """Minima over ``dim`` (torch.amin semantics: a tie splits the gradient evenly); ``x.min(other)``
        with a Tensor is ``minimum``."""
        if isinstance(dim, Tensor):
            return _ew.minimum(self, dim)
        return _red.Min.apply(self, dim=dim, keepdim=keepdim)

    def maximum(self, other):
        return _ew.maximum(self, other)

    def minimum(self, other):
        return _ew.minimum(self, other)

    def amax(self, dim=(), keepdim=False):
        return _red.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _red.amin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _red.logsumexp(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return _red.prod(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        """Indices of the maxima (an int64 tensor outside the graph); without ``dim``, of the flattened
        tensor (with ``keepdim``, in a shape of ones, as PyTorch). A tie gives the first."""
        return _red.arg_extremum("argmax", self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """Indices of the minima, as ``argmax``."""
        return _red.arg_extremum("argmin", self, dim, keepdim)

    # -- shapes --

    def reshape(self, *shape):
        return _sh.reshape(self, *shape)

    view = reshape

    def view_as(self, other):
        """``self`` reshaped to ``other``'s shape, as ``torch.Tensor.view_as``."""
        return _sh.reshape(self, *other.shape)

    def transpose(self, dim0, dim1):
        return _sh.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return _sh.permute(self, *dims)

    def flatten(self, start_dim=0, end_dim=-1):
        return _sh.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return _sh.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return _sh.squeeze(self, dim)

    def expand(self, *sizes):
        return _re.expand(self, *sizes)

    def expand_as(self, other):
        return _re.expand_as(self, other)

    def repeat(self, *sizes):
        return _re.repeat(self, *sizes)

    def split(self, split_size=None, dim=0, *, split_size_or_sections=None):
        """Pieces along ``dim``: ``split_size`` (PyTorch's name here) an int or a list of sizes; ``torch.split``'s
        name ``split_size_or_sections`` is accepted too."""
        if (split_size is None) == (split_size_or_sections is None):
            raise TypeError("split: give split_size (an int or a list of sizes), once")
        return _re.split(self, split_size if split_size_or_sections is None else split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _re.chunk(self, chunks, dim)

    def flip(self, *dims, **kwargs):
        """Reversed along ``dims``: ``x.flip(0, 1)``, ``x.flip((0, 1))`` or ``x.flip(dims=(0, 1))``."""
        if kwargs:
            if dims or set(kwargs) != {"dims"}:
                raise TypeError(f"flip: takes the dims, positionally or as dims=, got {dims!r} and {kwargs!r}")
            dims = (kwargs["dims"],)
        return _re.flip(self, dims[0] if len(dims) == 1 else dims)

    # -- in-place changes (they raise the version, so a gate that needs the old value notices) --

    def _inplace(self, name, fn):
        if self.requires_grad and engine.modes.grad:
            raise RuntimeError(
                f"{name}: cannot change in place a tensor that requires grad while the graph is being built; "
                f"do it under `with minigrad.no_grad():` (as optimisers do) or use an out-of-place operation"
            )
        fn(self._data)
        self._version += 1
        return self

    def __setitem__(self, index, value):
        value = _real("__setitem__", value.data if isinstance(value, Tensor) else value)
        self._inplace("__setitem__", lambda a: a.__setitem__(_sh.numpy_index(index), value))

    def add_(self, other, alpha=1.0):
        other = _real("add_", other.data if isinstance(other, Tensor) else other)
        step = alpha * other if alpha != 1.0 else other
        return self._inplace("add_", lambda a: np.add(a, step, out=a, casting="unsafe"))

    def sub_(self, other):
        other = _real("sub_", other.data if isinstance(other, Tensor) else other)
        return self._inplace("sub_", lambda a: np.subtract(a, other, out=a, casting="unsafe"))

    def mul_(self, other):
        other = _real("mul_", other.data if isinstance(other, Tensor) else other)
        return self._inplace("mul_", lambda a: np.multiply(a, other, out=a, casting="unsafe"))

    def zero_(self):
        return self._inplace("zero_", lambda a: a.fill(0))

    def fill_(self, value):
        value = _real("fill_", value)
        return self._inplace("fill_", lambda a: a.fill(value))

    def copy_(self, source):
        source = _real("copy_", source.data if isinstance(source, Tensor) else np.asarray(source))
        return self._inplace("copy_", lambda a: np.copyto(a, source, casting="unsafe"))

    # x += y, x -= y, x *= y, x /= y, x **= y, x @= y: in place where PyTorch changes the tensor in place (outside
    # a graph, or under no_grad); a computed tensor in a graph gets a new node, the same values; a leaf that
    # requires grad is an error, as in PyTorch -- otherwise `w -= lr * w.grad` (or `w **= 2`) would silently make
    # w a computed tensor. (x //= y and x %= y have no out-of-place operator to fall back on: a TypeError.)

    def _augmented(self, symbol, other, ufunc, out_of_place):
        if self.requires_grad and engine.modes.grad:
            if self._gate is None:
                raise RuntimeError(
                    f"{symbol}: a leaf tensor that requires grad (shape {self.shape}) cannot be changed in place while "
                    f"the graph is being built (PyTorch: 'a leaf Variable that requires grad is being used in an "
                    f"in-place operation'); update parameters under `with minigrad.no_grad():`, or use an optimiser"
                )
            return out_of_place(self, other)
        data = other.data if isinstance(other, Tensor) else other
        try:
            return self._inplace(symbol, lambda a: ufunc(a, data, out=a))
        except TypeError as exc:  # numpy: an int tensor cannot hold the float result, and so on
            raise TypeError(f"{symbol}: cannot store the result in this {self.dtype} tensor in place: {exc}") from None
        except ValueError as exc:  # @= whose product has another shape
            raise ValueError(f"{symbol}: cannot store the result in this tensor of shape {self.shape} in place: {exc}; "
                             f"write x = x {symbol[:-1]} y for a new tensor") from None

    def __iadd__(self, other):
        return self._augmented("+=", other, np.add, TensorOps.__add__)

    def __isub__(self, other):
        return self._augmented("-=", other, np.subtract, TensorOps.__sub__)

    def __imul__(self, other):
        return self._augmented("*=", other, np.multiply, TensorOps.__mul__)

    def __itruediv__(self, other):
        return self._augmented("/=", other, np.true_divide, TensorOps.__truediv__)

    def __ipow__(self, exponent):
        return self._augmented("**=", exponent, np.power, TensorOps.__pow__)

    def __imatmul__(self, other):
        return self._augmented("@=", other, np.matmul, TensorOps.__matmul__)


def _real(op, value):
    """A value for an in-place change, refused if complex: the unsafe cast would keep only its real part."""
    if np.iscomplexobj(value):
        raise TypeError(f"{op}: a complex value cannot be stored in a tensor of real numbers (it would lose its "
                        f"imaginary part); keep the real part, value.real, if that is what you mean")
    return value


def bind_ops(tensor_class):
    """Import the ``ops`` modules the methods above use (they need ``Tensor`` to exist first).

    This is the one place where the core reaches up into ``ops``: ``x.sum()`` and ``x * y`` hand over to
    the gates there. It runs once, when ``core/tensor.py`` has defined the class."""
    global Tensor, _act, _clamp, _cmp, _dt, _ew, _mm, _re, _red, _sh, _special
    from ..ops import activation as _act
    from ..ops import clamp as _clamp
    from ..ops import compare as _cmp
    from ..ops import dtypes as _dt
    from ..ops import elementwise as _ew
    from ..ops import matmul as _mm
    from ..ops import rearrange as _re
    from ..ops import reduce as _red
    from ..ops import shape as _sh
    from ..ops import special as _special

    Tensor = tensor_class
