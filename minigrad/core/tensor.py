"""``Tensor``: a numpy array that is a node of the graph. Operators delegate to the gates in ``ops/``.

The same engine as ``Value``: a Tensor has ``_gate``, ``_inputs``, ``_id`` and ``_g``, and
``backward()`` runs the one backprop loop of ``engine.py``. What differs is what the gates
multiply: "gradients of variables wrt the loss have the same dims as the original variable",
and Jacobians are never formed.

dtype rules: lists and Python numbers become float32; numpy arrays keep their dtype
(float64 stays float64, integer arrays stay integer and cannot require grad).

This file is longer than most because it is one class whose methods mirror ``torch.Tensor``'s (the
operators, accessors, in-place changes, hooks); each method is a line or two that hands over to a gate.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import engine
from .engine import new_id


class Tensor:
    """A node holding a numpy array.

    >>> x = Tensor([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [[4.0, 2.0, -6.0], [-6.0, 8.0, 4.0]]
    """

    __slots__ = (
        "_data", "grad", "requires_grad", "label", "_gate", "_inputs", "_id", "_g", "_rec", "_pass", "_hooked",
        "_hooks", "_retains_grad", "_vc", "_module", "_site", "__weakref__",
    )
    __array_ufunc__ = None  # numpy defers to our reflected operators: np_array + tensor -> Tensor

    def __init__(self, data, requires_grad=False, dtype=None, label=""):
        self._data = _as_array(data, dtype)
        self.grad = None
        self.label = label
        self._gate = None
        self._inputs = ()
        self._id = new_id()
        self._g = self._rec = self._pass = self._hooked = None
        self._hooks = None
        self._retains_grad = False
        self._vc = [0]  # the version counter: shared with views of the same array and with detach()
        self._module = None
        self._site = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, gate, inputs):
        """The output of a gate: a node of the graph when ``gate`` is given, else a plain constant."""
        out = cls.__new__(cls)
        out._data = data
        out.grad = None
        out.requires_grad = gate is not None
        out.label = ""
        out._gate = gate
        out._inputs = inputs
        out._id = new_id()
        out._g = out._rec = out._pass = out._hooked = None
        out._hooks = None
        out._retains_grad = False
        out._vc = [0]
        modes = engine.modes
        out._module = modes.module
        out._site = None
        if engine.anomalous and gate is not None and modes.anomaly is not None:
            modes.anomaly.check_forward(out, gate)
        return out

    # -- the array --

    @property
    def data(self):
        """The numpy array. Assigning a new array counts as an in-place change (the version goes up)."""
        return self._data

    @data.setter
    def data(self, value):
        value = _as_array(value, None)
        if value.shape != self._data.shape:
            raise ValueError(f"data: the new array has shape {value.shape} but the tensor has {self._data.shape}")
        self._data = value
        self._version += 1

    @property
    def _version(self):
        """How many in-place changes this tensor's array has had (through it, its views or its detached copies)."""
        return self._vc[0]

    @_version.setter
    def _version(self, value):
        self._vc[0] = value

    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    T = property(lambda self: self.transpose(-2, -1) if self.ndim >= 2 else self)

    def numel(self):
        return self._data.size

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[_dims.axis("size", dim, self.ndim)]

    def __len__(self):
        return len(self._data)

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor converts to a Python number; this one has shape {self.shape}"
            )
        return self._data.item()

    def numpy(self):
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if copy:  # np.array(t) copies; np.asarray(t) is the tensor's own array
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __repr__(self):
        parts = []
        if self._data.size <= 16:
            parts.append(np.array2string(self._data, separator=", ", precision=4))
        parts.append(f"shape={self.shape}")
        parts.append(f"dtype={self.dtype}")
        if self._gate is not None:
            parts.append(f"gate={self._gate.name}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Tensor({', '.join(parts)})"

    __hash__ = object.__hash__  # nodes are keys of the engine's dicts; == is elementwise

    # -- copying and pickling, as PyTorch: a tensor is saved as its values, never as its graph --

    def __reduce_ex__(self, protocol):
        """Pickled as a leaf: values, requires_grad, label and (a leaf's) .grad; a computed tensor's graph is not
        saved, as PyTorch does (and a deep graph cannot overflow the pickler's recursion)."""
        extra = {slot: getattr(self, slot) for cls in type(self).__mro__[:-2] if cls is not Tensor
                 for slot in getattr(cls, "__slots__", ()) if hasattr(self, slot)}
        grad = self.grad if self._gate is None else None
        return (_rebuild, (type(self), self._data, self.requires_grad, self.label, grad, extra))

    def __deepcopy__(self, memo):
        if self._gate is not None:
            raise RuntimeError(
                f"deepcopy: only leaf tensors (made by you, not by a gate) can be deep-copied, as in PyTorch; this one "
                f"was made by {self._gate.name}: copy its values with t.detach().clone(), or copy the leaves and run "
                f"the computation again"
            )
        import copy

        cls, data, requires_grad, label, grad, extra = self.__reduce_ex__(4)[1]
        out = _rebuild(cls, copy.deepcopy(data, memo), requires_grad, label, copy.deepcopy(grad, memo),
                       copy.deepcopy(extra, memo))
        memo[id(self)] = out
        return out

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

    def __neg__(self):
        return _ew.Neg.apply(self)

    def __matmul__(self, other):
        return _mm.matmul(self, other)

    def __rmatmul__(self, other):
        return _mm.rmatmul(self, other)

    def __getitem__(self, index):
        return _sh.index(self, index)

    # comparisons give boolean tensors outside the graph, as in PyTorch
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(op(self._data, other), None, ())

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self._data)

    def any(self):
        return bool(self._data.any())

    def all(self):
        return bool(self._data.all())

    # -- elementwise --

    def exp(self):
        return _ew.Exp.apply(self)

    def log(self):
        return _ew.Log.apply(self)

    def sqrt(self):
        return _ew.Sqrt.apply(self)

    def abs(self):
        return _ew.Abs.apply(self)

    def relu(self):
        return _ew.Relu.apply(self)

    def sigmoid(self):
        return _ew.Sigmoid.apply(self)

    def tanh(self):
        return _ew.Tanh.apply(self)

    def erf(self):
        return _special.erf(self)

    def clamp(self, min=None, max=None):
        """Elements limited to [min, max] (numbers or tensors; either may be None), as ``torch.clamp``."""
        return _clamp.clamp(self, min, max)

    clip = clamp

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
        return _red.Max.apply(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=(), keepdim=False):
        return _red.Min.apply(self, dim=dim, keepdim=keepdim)

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

    def split(self, split_size_or_sections, dim=0):
        return _re.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _re.chunk(self, chunks, dim)

    def flip(self, *dims):
        return _re.flip(self, dims[0] if len(dims) == 1 else dims)

    # -- autograd --

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not np.issubdtype(self.dtype, np.floating):
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, this one is {self.dtype}; "
                f"convert it first (Tensor(x.astype('float32'), requires_grad=True))"
            )
        if self._gate is not None and not requires_grad:
            raise RuntimeError("requires_grad_: a computed tensor cannot stop requiring grad; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same array as a new leaf outside the graph (sharing its version counter, as in PyTorch)."""
        out = Tensor._make(self._data, None, ())
        out._vc = self._vc
        return out

    def retain_grad(self):
        """Keep this (non-leaf) tensor's gradient in ``.grad`` after backward."""
        if self._gate is not None:
            self._retains_grad = True
        return self

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is complete; a returned array replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach it")
        if self._hooks is None:
            self._hooks = {}
        handle = _HookHandle(self)
        self._hooks[handle.key] = fn
        return handle

    def _run_hooks(self, grad):
        """This node's complete gradient, passed through its hooks in the order they were registered;
        a hook that returns an array replaces the gradient."""
        graph = isinstance(grad, Tensor)  # create_graph: the hook gets (and may return) a Tensor with a graph
        for fn in list(self._hooks.values()):
            replaced = fn(grad)
            if replaced is not None:
                if graph:
                    replaced = replaced if isinstance(replaced, Tensor) else Tensor(np.asarray(replaced, self.dtype))
                else:
                    replaced = np.asarray(replaced.data if isinstance(replaced, Tensor) else replaced, dtype=self.dtype)
                if replaced.shape != self.shape:
                    raise ValueError(
                        f"hook: returned a gradient of shape {replaced.shape} for a tensor of shape {self.shape}"
                    )
                grad = replaced
        return grad

    def _receive(self, grad):
        """The engine hands over this node's complete gradient (after hooks): ``.grad`` for leaves and retainers."""
        if self._gate is None:
            if grad.__class__ is not np.ndarray:  # create_graph: .grad is a Tensor with its graph
                self.grad = grad if self.grad is None else grad + self.grad
            elif self.grad is None:
                self.grad = np.array(grad, dtype=self.dtype, copy=True)
            elif isinstance(self.grad, Tensor):
                self.grad = self.grad + grad
            else:
                self.grad += grad
        elif self._retains_grad:
            self.grad = grad

    def _seed_grad(self, grad):
        """The gradient backprop starts from: ones for a one-element tensor, else the given one."""
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implied only for a one-element output; this one has shape {self.shape}. "
                    f"Pass grad= (an array of shape {self.shape}) or reduce first: y.sum().backward()"
                )
            return np.ones_like(self._data)
        given = grad.data if isinstance(grad, Tensor) else grad
        if not isinstance(given, (np.ndarray, np.generic, numbers.Real, list, tuple)) or isinstance(given, bool) or (
                isinstance(given, np.ndarray) and given.dtype.kind not in "biuf"):
            raise TypeError(f"backward: grad must be an array (or Tensor) of numbers of shape {self.shape}, got {grad!r}")
        try:
            grad = np.asarray(given, dtype=self.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"backward: grad must be an array of numbers of shape {self.shape}, got {grad!r}") from None
        if grad.shape != self.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the output has shape {self.shape}")
        return grad

    def backward(self, grad=None, retain_graph=None, create_graph=False, *, breakpoint=None):
        """Backprop from this tensor. Leaves that require grad accumulate into ``.grad``.

        Without ``retain_graph`` the gates free their saved arrays as the loop goes (memory stays
        flat across training steps) and a second backward through the graph is an error. With it,
        saved arrays and every node's gradient stay, for drawing and for another backward.
        With ``create_graph`` every gate's backward runs in Tensor operations: ``.grad`` is then a
        Tensor with a graph of its own, made of the same gates, which can be differentiated again
        (``retain_graph`` then defaults to True, as in PyTorch).
        ``breakpoint`` is a predicate on a Step; where it is true, Python's ``breakpoint()`` runs
        with ``step`` in scope, before the step's downstream gradients are sent.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no gate; was it computed under no_grad(), "
                "or from tensors none of which has requires_grad=True?"
            )
        retain = create_graph if retain_graph is None else retain_graph
        seed = self._seed_grad(grad)
        if create_graph:
            seed = grad if isinstance(grad, Tensor) else Tensor._make(seed, None, ())
        engine.run_backward(self, seed, retain=retain, breakpoint=breakpoint, graph=bool(create_graph))

    def backward_steps(self, grad=None, retain_graph=None, create_graph=False):
        """Backprop one Step at a time (same result as ``backward()``)."""
        retain = create_graph if retain_graph is None else retain_graph
        seed = self._seed_grad(grad)
        if create_graph:
            seed = grad if isinstance(grad, Tensor) else Tensor._make(seed, None, ())
        return engine.backprop(self, seed, steps=True, retain=retain, graph=bool(create_graph))

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
        value = value.data if isinstance(value, Tensor) else value
        self._inplace("__setitem__", lambda a: a.__setitem__(_sh.numpy_index(index), value))

    def add_(self, other, alpha=1.0):
        other = other.data if isinstance(other, Tensor) else other
        return self._inplace("add_", lambda a: np.add(a, alpha * other if alpha != 1.0 else other, out=a, casting="unsafe"))

    def sub_(self, other):
        return self.add_(other, alpha=-1.0)

    def mul_(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return self._inplace("mul_", lambda a: np.multiply(a, other, out=a, casting="unsafe"))

    def zero_(self):
        return self._inplace("zero_", lambda a: a.fill(0))

    def fill_(self, value):
        return self._inplace("fill_", lambda a: a.fill(value))

    def copy_(self, source):
        source = source.data if isinstance(source, Tensor) else np.asarray(source)
        return self._inplace("copy_", lambda a: np.copyto(a, source, casting="unsafe"))

    # x += y, x -= y, x *= y, x /= y: in place where PyTorch changes the tensor in place (outside a graph, or
    # under no_grad); a computed tensor in a graph gets a new node, the same values; a leaf that requires grad
    # is an error, as in PyTorch -- otherwise `w -= lr * w.grad` would silently make w a computed tensor

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

    def __iadd__(self, other):
        return self._augmented("+=", other, np.add, Tensor.__add__)

    def __isub__(self, other):
        return self._augmented("-=", other, np.subtract, Tensor.__sub__)

    def __imul__(self, other):
        return self._augmented("*=", other, np.multiply, Tensor.__mul__)

    def __itruediv__(self, other):
        return self._augmented("/=", other, np.true_divide, Tensor.__truediv__)


class _HookHandle:
    _next = 0

    def __init__(self, tensor):
        _HookHandle._next += 1
        self.key = _HookHandle._next
        self._tensor = tensor

    def remove(self):
        hooks = self._tensor._hooks
        if hooks is not None:
            hooks.pop(self.key, None)


def _as_array(data, dtype):
    """The array a Tensor holds: lists and numbers as float32, numpy arrays as they are."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = _numeric_dtype(dtype)
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "biuf":
            fix = {"c": "keep the real part: array.real", "U": "if the strings are numbers: array.astype('float32')",
                   "S": "if the strings are numbers: array.astype('float32')"}.get(
                data.dtype.kind, "make it numeric: np.asarray(array, dtype='float32')")
            raise TypeError(f"Tensor: an array of {data.dtype} cannot be a tensor (tensors hold real numbers); {fix}")
        return data if dtype is None else data.astype(dtype, copy=False)
    if isinstance(data, (numbers.Number, list, tuple, np.generic)):
        try:
            array = np.asarray(data, dtype=dtype if dtype is not None else None)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"Tensor: cannot make an array from {type(data).__name__}: {exc}") from None
        if dtype is None and array.dtype.kind in "biuf" and not isinstance(data, np.generic):
            array = array.astype(np.float32)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: data must be numbers, got {array.dtype} values such as {array.flat[0]!r}")
        return array
    raise TypeError(
        f"Tensor: expected a numpy array, a list or a number, got {type(data).__name__}; "
        f"convert it with numpy.asarray first"
    )


def _rebuild(cls, data, requires_grad, label, grad, extra):
    """A pickled (or deep-copied) tensor, as a leaf."""
    out = cls.__new__(cls)
    Tensor.__init__(out, data, label=label)
    out.requires_grad = bool(requires_grad)
    out.grad = grad
    for slot, value in extra.items():
        setattr(out, slot, value)
    return out


def _numeric_dtype(dtype):
    """``dtype`` as a numpy dtype of booleans, integers or floats, or a TypeError naming it."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: {dtype!r} is not a data type; use e.g. 'float32', 'float64' or 'int64'") from None
    if dtype.kind not in "biuf":
        raise TypeError(f"dtype: tensors hold booleans, integers or floats, not {dtype}; use e.g. 'float32'")
    return dtype


def tensor(data, requires_grad=False, dtype=None, label=""):
    """``mg.tensor(...)`` is ``Tensor(...)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, label=label)


from ..ops import activation as _act  # noqa: E402 -- the gates need the class defined first
from ..ops import clamp as _clamp  # noqa: E402
from ..ops import dims as _dims  # noqa: E402
from ..ops import elementwise as _ew  # noqa: E402
from ..ops import matmul as _mm  # noqa: E402
from ..ops import rearrange as _re  # noqa: E402
from ..ops import reduce as _red  # noqa: E402
from ..ops import shape as _sh  # noqa: E402
from ..ops import special as _special  # noqa: E402
