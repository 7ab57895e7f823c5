"""Local-gradient rules, declared once per input: what backward computes and what every picture prints.

A gate says, for each of its inputs, how the gradient reaches it -- one :class:`Rule` per input, as
PyTorch's ``derivatives.yaml`` gives one formula per input (``self: grad * other``). Two kinds:

* **elementwise** rules carry the local gradient as data: its text (``"b"``) and a function that
  computes it (``lambda a, b, y: b``). Such a gate's backward *is* ``downstream = local ⊙ upstream``,
  computed from that one declaration, for scalars and tensors alike;
* **formula** rules (matmul, conv, reductions) carry the downstream gradient as text
  (``"dL/dY · Wᵀ"``); the gate's own backward computes it.

``backward``, ``str(step)``, the drawings, the stepper and anomaly mode all read these declarations;
nothing parses prose. The table at the bottom is shared by the scalar gates (``core/scalar.py``) and
the tensor gates (``ops/elementwise.py``): one place to read "mul swaps".

A local-gradient function takes the gate's inputs, then its output, then the gate's parameters
(pow's exponent): ``local(a, b, y)`` for a two-input gate, ``local(x, y, k)`` for ``x ** k``.
It works on Python floats and numpy arrays, and -- for ``create_graph`` -- on the Values and Tensors
themselves, so that the gradient it gives can be differentiated again. ``[x > 0]`` is 1 where the condition holds, else 0.
"""
from __future__ import annotations

import math
import numbers


def value(x):
    """What a node holds (a Value's float, a Tensor's array), else ``x``: for a local gradient that is a choice
    (relu's, max's) -- a constant even when ``create_graph`` evaluates the rule on the nodes themselves."""
    data = getattr(x, "_data", None)
    if data is not None:
        return data
    return x.data if hasattr(x, "_inputs") else x


class Rule:
    """How the gradient reaches one input of a gate.

    ``input`` names the input as the rule writes it (``"a"``, ``"W"``); ``rhs`` is the right-hand
    side: the local gradient for an elementwise rule (``local`` given), else the whole downstream
    gradient (``"dL/dY · Wᵀ"``). ``local`` is a number (a constant local gradient: add's 1, sub's
    −1) or a function of (inputs..., output, parameters...). ``routes`` marks a local gradient that
    is a 0/1 choice (relu, max): where it is 0 the input gets exactly 0, even from an infinite
    upstream (0 · inf would be nan). ``text`` is the whole rule, ``dL/da = b ⊙ dL/dy``.
    """

    __slots__ = ("input", "rhs", "local", "routes", "text")

    def __init__(self, input, rhs, local=None, *, routes=False, output="y"):
        if local is not None and not (callable(local) or isinstance(local, numbers.Real)):
            raise TypeError(f"Rule: local must be a number or a function, got {type(local).__name__}")
        self.input, self.rhs, self.local, self.routes = input, rhs, local, routes
        if input is None:
            self.text = rhs  # a whole statement, as a user's Function.formula gives it
        elif local is None:
            self.text = f"dL/d{input} = {rhs}"
        else:
            self.text = f"dL/d{input} = {self.factor} ⊙ dL/d{output}"

    @property
    def factor(self):
        """The local gradient as a factor of ``⊙ upstream``: in brackets when it is a sum or difference
        (``(1 − tanh²x)``), so that ``1 − tanh²x ⊙ dL/dy`` is never read as 1 − (tanh²x ⊙ dL/dy)."""
        depth = 0
        for k, ch in enumerate(self.rhs):
            depth += ch in "([{"
            depth -= ch in ")]}"
            if depth == 0 and ch in "+−-" and 0 < k < len(self.rhs) - 1 and self.rhs[k - 1] == " ":
                return f"({self.rhs})"
        return self.rhs

    @property
    def elementwise(self):
        """Whether the downstream gradient is ``local ⊙ upstream`` with ``local`` given here."""
        return self.local is not None

    def __repr__(self):
        return f"Rule({self.text!r})"


class Gate:
    """A gate: a forward rule and one local-gradient :class:`Rule` per input.

    The declaration, read by everything that explains a gate:

    * ``name``: the step's ``gate`` string (``"mul"``); ``symbol``: drawn in the gate's circle;
    * ``rules``: one Rule per input (the last one repeats for gates with any number of inputs, as cat);
    * ``pattern``: the lectures' name for what the gate does to a gradient ("swap multiplier");
    * ``hint``: what usually makes it produce nan/inf (anomaly mode prints it).

    The engine calls ``send(node, upstream)`` for the downstream gradients (one per input, None
    where an input needs none) and ``release()`` when the graph is not kept.
    """

    __slots__ = ()
    name = "gate"
    symbol = "?"
    rules = ()
    pattern = ""
    hint = ""

    def rule(self, i):
        """The rule for input ``i``."""
        rules = self.rules
        return rules[i] if i < len(rules) else rules[-1]

    @property
    def formula(self):
        """The gate's rules in one line: ``dL/da = b ⊙ dL/dy, dL/db = a ⊙ dL/dy (mul: swap multiplier)``."""
        text = ", ".join(rule.text for rule in self.rules)
        return f"{text} ({self.name}: {self.pattern})" if self.pattern else text

    def local(self, node):
        """One local gradient per input, as the drawings write it: a number or array for an elementwise
        rule (evaluated on what the gate saw), else the rule's text."""
        return tuple(self.rule(i).text for i in range(len(node._inputs)))

    def send(self, node, upstream):
        raise NotImplementedError

    def release(self):
        """Drop whatever the gate saved for backward (called when the graph is not retained)."""

    def __repr__(self):
        return f"<gate {self.name}>"


class Declared:
    """A gate's declaration that scalar and tensor gates share: name, symbol, pattern, hint, rules,
    and which values the local gradients read (``saves``: "inputs", "output" or "" -- what a tensor
    gate must keep for backward)."""

    __slots__ = ("name", "symbol", "pattern", "hint", "rules", "saves")

    def __init__(self, name, symbol, *rules, pattern="", hint="", saves="inputs"):
        self.name, self.symbol, self.pattern, self.hint = name, symbol, pattern, hint
        self.rules, self.saves = rules, saves

    formula = Gate.formula  # the one line its gates print

    def __str__(self):
        return self.formula


# --- the shared table: the lectures' gates and the unary functions -----------------------------------

ADD = Declared("add", "+", Rule("a", "1", 1.0), Rule("b", "1", 1.0), pattern="gradient distributor", saves="")
SUB = Declared("sub", "−", Rule("a", "1", 1.0), Rule("b", "−1", -1.0), saves="")
MUL = Declared("mul", "×", Rule("a", "b", lambda a, b, y: b), Rule("b", "a", lambda a, b, y: a),
               pattern="swap multiplier")
DIV = Declared("div", "÷", Rule("a", "1/b", lambda a, b, y: 1 / b), Rule("b", "−a/b²", lambda a, b, y: -a / (b * b)),
               hint="a division by zero (or 0/0)")
MAX = Declared(
    "max", "max",
    # as PyTorch's maximum: 1 unless the other input is larger, ½ on a tie -- so both get 1 where one is NaN
    Rule("a", "1 − [a < b] − ½[a = b]", lambda a, b, y: 1 - (value(a) < value(b)) - 0.5 * (value(a) == value(b)),
         routes=True),
    Rule("b", "1 − [b < a] − ½[a = b]", lambda a, b, y: 1 - (value(b) < value(a)) - 0.5 * (value(a) == value(b)),
         routes=True),
    pattern="gradient router",
)
NEG = Declared("neg", "−x", Rule("x", "−1", -1.0), saves="")
def _power(x, e):
    """``x ** e``, with 0 to a negative power infinite for a Python float too (as numpy and PyTorch make it)."""
    if x.__class__ is float and x == 0.0 and e < 0:
        return math.inf
    return x**e


def _pow_local(x, y, k):
    """k·xᵏ⁻¹, and 0 for k = 0 (as PyTorch: x⁰ is the constant 1, even at x = 0 where 0·0⁻¹ would be nan)."""
    return 0.0 if k == 0 else k * _power(x, k - 1)


def _relu_local(x, y):
    """[y > 0], except that NaN passes its gradient on as PyTorch's relu does (its rule is "0 where y ≤ 0")."""
    off = value(y) <= 0
    return (not off) if off.__class__ is bool else ~off


POW = Declared("pow", "xᵏ", Rule("x", "k·xᵏ⁻¹", _pow_local),
               hint="a negative base with a fractional exponent, or 0 to a negative power")
EXP = Declared("exp", "exp", Rule("x", "eˣ", lambda x, y: y), saves="output",
               hint="exp overflows past about 88 in float32 and 709 in float64")
LOG = Declared("log", "log", Rule("x", "1/x", lambda x, y: 1 / x),
               hint="log needs inputs > 0 (log 0 = -inf, log of a negative number = nan)")
TANH = Declared("tanh", "tanh", Rule("x", "1 − tanh²x", lambda x, y: 1 - y * y), saves="output")
SIGMOID = Declared("sigmoid", "σ", Rule("x", "σ(x)(1 − σ(x))", lambda x, y: y * (1 - y)), saves="output")
RELU = Declared("relu", "relu", Rule("x", "[x > 0]", _relu_local, routes=True), saves="output")
