"""``Tensor``: a numpy array that is a node of the graph. Operators delegate to the gates in ``ops/``.

The same engine as ``Value``: a Tensor has ``_gate``, ``_inputs``, ``_id`` and ``_g``, and
``backward()`` runs the one backprop loop of ``engine.py``. What differs is what the gates
multiply: "gradients of variables wrt the loss have the same dims as the original variable",
and Jacobians are never formed.

dtype rules: lists and Python numbers become float32; numpy arrays keep their dtype
(float64 stays float64, integer arrays stay integer and cannot require grad).

The methods that mirror ``torch.Tensor``'s operations (the operators, elementwise functions, reductions,
shapes and in-place changes), each a line or two that hands over to a gate, are in ``core/tensor_ops.py``;
this file is the node itself: its array, copying, grad mode, hooks and backward.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import dims as _dims
from . import engine
from .engine import new_id
from .tensor_ops import TensorOps


class Tensor(TensorOps):
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

    def numel(self):
        return self._data.size

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[_dims.existing_axis("size", dim, self.ndim)]

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
            raise TypeError(
                f"backward: grad must be an array (or Tensor) of numbers of shape {self.shape}, got {grad!r}")
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


def _numeric_dtype(dtype, op="dtype", kinds="biuf"):
    """``dtype`` as a numpy dtype of booleans, integers or floats (of ``kinds``), or a TypeError naming ``op``
    and the dtype."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: dtype {dtype!r} is not a data type; use e.g. 'float32', 'float64' or 'int64'") from None
    if dtype.kind not in kinds:
        held = "its values are floats (as in PyTorch)" if kinds == "f" else "tensors hold booleans, integers or floats"
        raise TypeError(f"{op}: {held}, not {dtype}; use e.g. dtype='float32'")
    return dtype


def tensor(data, requires_grad=False, dtype=None, label=""):
    """``mg.tensor(...)`` is ``Tensor(...)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, label=label)


from . import tensor_ops as _ops  # noqa: E402 -- the gates need the class defined first

_ops.bind_ops(Tensor)
