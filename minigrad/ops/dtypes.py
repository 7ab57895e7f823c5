"""PyTorch's type promotion, in one place: the dtype of a binary gate's output (``torch.result_type``).

numpy and PyTorch agree on two arrays of one kind (float32 with float64 is float64), but not on the rest,
and numpy's answer makes a float32 model silently float64. PyTorch's rule sorts the operands into three
groups and ranks the dtypes by category, bool < integer < floating:

* tensors with dimensions (and numpy arrays with dimensions);
* 0-d tensors (and 0-d arrays);
* Python numbers and numpy scalars (PyTorch reads ``np.float32(2)`` as the Python number it holds).

Within a group dtypes promote as ``torch.promote_types`` does (int64 with float32 is float32, not
numpy's float64). A group counts only if its category is *higher* than every group above it: a number,
a numpy scalar or a 0-d tensor never widens a tensor of its own kind (``x * np.sqrt(2.0)`` stays
float32, an int64 tensor ``+ 1`` stays int64), but a float one turns an integer tensor into floats, a
Python float into the default float32. True division turns integers into float32, as PyTorch does.

numpy has unsigned types PyTorch does not promote (uint16, uint32, uint64); those pairs follow numpy.

The dtypes of the other operations, as PyTorch's, are here too: a Python int beside an integer tensor takes
its dtype with wraparound (``uint8 + (-1)``), the float functions (``exp log sqrt sigmoid tanh erf``) turn
integers and bools into the default float32 (:func:`floating`), ``sum`` and ``prod`` of integers or bools
count in int64 (:func:`accumulator`), and ``mean var std softmax log_softmax`` refuse them
(:func:`require_float`).
"""
from __future__ import annotations

import numbers

import numpy as np

from .gate import Tensor  # the class, through the one bridge

DEFAULT_FLOAT = np.dtype(np.float32)
_BOOL, _INT, _FLOAT = 0, 1, 2


def category(dtype):
    """0 for bool, 1 for integers, 2 for floats."""
    kind = dtype.kind
    return _FLOAT if kind == "f" else _BOOL if kind == "b" else _INT


def promote_types(a, b):
    """``torch.promote_types`` for numpy dtypes: the higher category wins outright; within one, numpy's rule."""
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _group(x):
    """(group, dtype) of an operand: group 0 has dimensions, 1 is 0-d, 2 is a Python number; None if not one."""
    if isinstance(x, Tensor):
        data = x._data
        return (0 if data.ndim else 1), data.dtype
    if isinstance(x, np.ndarray):
        return (0 if x.ndim else 1), x.dtype
    if isinstance(x, (bool, np.bool_)):
        return 2, np.dtype(bool)
    if isinstance(x, (float, np.floating)):
        return 2, DEFAULT_FLOAT
    if isinstance(x, (numbers.Integral, np.integer)):
        return 2, np.dtype(np.int64)
    if isinstance(x, numbers.Real):
        return 2, DEFAULT_FLOAT
    if isinstance(x, (complex, np.complexfloating)):  # refused by promoted(), by name
        return 2, np.dtype(type(x)) if isinstance(x, np.generic) else np.dtype(complex)
    return None


def result_type(*operands):
    """The dtype PyTorch gives an operation on ``operands`` (Tensors, arrays, numpy scalars, Python numbers).

    >>> result_type(Tensor(np.ones(2, np.float32)), np.float64(2.0))
    dtype('float32')
    >>> result_type(np.ones(2, np.int64), Tensor(np.ones(2, np.float32)))
    dtype('float32')
    """
    groups = [None, None, None]
    for x in operands:
        found = _group(x)
        if found is None:
            raise TypeError(f"result_type: expected Tensors, arrays or numbers, got {type(x).__name__}")
        g, dtype = found
        groups[g] = dtype if groups[g] is None else promote_types(groups[g], dtype)
    out = None
    for dtype in groups:  # dimensioned first; a later group counts only if its category is higher
        if dtype is not None and (out is None or category(dtype) > category(out)):
            out = dtype
    return out


def operands(op, a, b, *, true_divide=False):
    """``a`` (a Tensor) and ``b`` as Tensors whose arithmetic gives PyTorch's dtype, or None if ``b`` cannot be
    an operand. See :func:`promoted`; the common cases are kept cheap, since every gate of a training step
    comes through here."""
    kind = a._data.dtype.kind
    if isinstance(b, Tensor):
        if a._data.dtype == b._data.dtype and (kind == "f" or not true_divide):
            return a, b
    elif (b.__class__ is float or b.__class__ is int) and (kind == "f" or (kind in "iu" and b.__class__ is int
                                                                              and not true_divide)):
        return a, Tensor._make(_number(b, a._data.dtype), None, ())  # a Python number keeps a's dtype
    elif _group(b) is None:
        return None
    return promoted(op, a, b, true_divide=true_divide)


def promoted(op, *xs, true_divide=False):
    """``xs`` (Tensors, arrays, numbers) as Tensors whose arithmetic gives PyTorch's dtype (integers become
    float32 for a true division).

    Constants (numbers, arrays, tensors that need no gradient) are converted; a tensor in the graph is cast
    by a gate (its gradient comes back in its own dtype) only where numpy's promotion of the tensors' dtypes
    would not give PyTorch's answer -- a 0-d float64 tensor beside a float32 one, say.
    """
    for x in xs:
        found = _group(x)
        if found is None:
            raise TypeError(f"{op}: expected Tensors, arrays or numbers, got {type(x).__name__}")
        if found[1].kind not in "biuf":  # numpy would cast a complex array to float32 and drop its imaginary part
            fix = "keep the real part (x.real) if that is what you mean" if found[1].kind == "c" else \
                "convert it first: np.asarray(x, dtype='float32')"
            raise TypeError(f"{op}: an operand of dtype {found[1]} cannot meet a tensor (tensors hold real numbers); "
                            f"{fix}")
    target = result_type(*xs)
    if true_divide and target.kind != "f":
        target = DEFAULT_FLOAT
    graph = [x._data.dtype for x in xs if isinstance(x, Tensor) and x.requires_grad]
    numpy_gives = np.result_type(*[x._data.dtype for x in xs if isinstance(x, Tensor)]) if graph else None
    return tuple(_as(x, target, numpy_gives) for x in xs)


def _as(x, target, numpy_gives):
    """An operand in ``target`` where it must be: constants always, graph tensors only if numpy would differ."""
    if not isinstance(x, Tensor):
        return Tensor._make(_number(x, target) if isinstance(x, (int, np.integer)) else np.asarray(x, dtype=target),
                            None, ())
    if x._data.dtype == target:
        return x
    if x.requires_grad:
        if numpy_gives == target:
            return x
        from .elementwise import cast

        return cast(x, target)
    return Tensor._make(x._data.astype(target), None, ())


def _number(x, dtype):
    """A number as a 0-d array of ``dtype``; an integer outside an integer dtype's range wraps around, as in
    PyTorch (``uint8 + (-1)`` adds 255, which is ``x - 1`` modulo 256), where numpy raises OverflowError."""
    if dtype.kind in "iu" and isinstance(x, (int, np.integer)):
        info = np.iinfo(dtype)
        if not info.min <= x <= info.max:
            if info.bits == 64 or not -(1 << 63) <= x < (1 << 64):
                raise OverflowError(f"the integer {x} does not fit in {dtype} (nor in 64 bits), as in PyTorch: "
                                    f"compute in a wider or a float dtype")
            return np.asarray(int(x) % (1 << info.bits)).astype(dtype)
    return np.asarray(x, dtype=dtype)


def floating(x):
    """``x`` (a Tensor) for a float function (exp, log, sqrt, sigmoid, tanh, erf): integers and bools become the
    default float32, as in PyTorch (numpy would give float64)."""
    if x._data.dtype.kind == "f":
        return x
    return _as(x, DEFAULT_FLOAT, None)


def accumulator(dtype):
    """The dtype ``sum`` and ``prod`` count in: int64 for integers and bools (PyTorch's; numpy gives uint64 for
    unsigned ones), None (the input's own) for floats."""
    return None if dtype.kind == "f" else _INT64


_INT64 = np.dtype(np.int64)


def require_float(op, dtype):
    """Refuse an integer or bool ``dtype`` for ``op`` (mean, var, std, softmax, log_softmax), as PyTorch does, rather
    than quietly computing in float64 as numpy would."""
    if dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got {dtype} (PyTorch refuses it too); convert it first, "
                        f"e.g. x.float()")
