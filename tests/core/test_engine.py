"""The backprop loop: the Step stream, copy steps, order, deep graphs, breakpoints."""
import sys

import pytest

from minigrad import Step, Value, engine, lectures
from minigrad.core.scalar import Constant


def test_step_stream_of_the_simple_graph():
    f, v = lectures.simple()
    steps = list(f.backward_steps())
    assert [s.gate for s in steps] == ["mul", "add"]
    mul, add = steps
    assert mul.output is f and mul.inputs[1] is v["z"]
    assert mul.upstream == 1.0
    assert mul.local == (-4.0, 3.0)
    assert mul.downstream == (-4.0, 3.0)
    assert str(mul) == "mul: upstream 1.0 × local (-4.0, 3.0) = downstream (-4.0, 3.0)"
    assert add.upstream == -4.0 and add.local == (1.0, 1.0) and add.downstream == (-4.0, -4.0)
    assert str(add) == "add: upstream -4.0 × local (1.0, 1.0) = downstream (-4.0, -4.0)"
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (-4.0, -4.0, 3.0)
    assert [s.index for s in steps] == [0, 1]
    assert isinstance(mul, Step)


def test_copy_step_of_x_times_x():
    x = Value(3.0, "x")
    y = x * x
    steps = list(y.backward_steps())
    assert [s.gate for s in steps] == ["mul", "copy"]
    mul, copy = steps
    assert mul.downstream == (3.0, 3.0)
    assert copy.output is x and copy.inputs == (x,)
    assert copy.upstream == (3.0, 3.0)
    assert copy.downstream == (6.0,)
    assert str(copy) == "copy: upstream 3.0 + 3.0 = downstream 6.0"
    assert x.grad == 6.0


def test_parents_are_an_ordered_tuple_with_one_edge_per_use():
    a = Value(1.0)
    b = a + a
    assert b._inputs == (a, a)
    c = a - Value(2.0)
    assert c._inputs[0] is a


def test_copy_step_comes_before_the_gate_of_a_fanned_out_intermediate():
    x = Value(2.0)
    h = x * 3.0
    y = h * h + h
    gates = [s.gate for s in y.backward_steps()]
    copy_at = gates.index("copy")
    assert gates[copy_at + 1] == "mul"  # then h's own gate sends the summed gradient on
    assert x.grad == pytest.approx((2 * 6.0 + 1) * 3.0)


def test_backward_steps_and_backward_give_the_same_gradients():
    f1, p1 = lectures.neuron_gates()
    f2, p2 = lectures.neuron_gates()
    f1.backward()
    for _ in f2.backward_steps():
        pass
    assert {k: v.grad for k, v in p1.items()} == {k: v.grad for k, v in p2.items()}


def test_every_step_is_downstream_equals_local_times_upstream():
    f, _ = lectures.neuron_gates()
    for step in f.backward_steps():
        if step.gate == "copy":
            assert step.downstream[0] == pytest.approx(sum(step.upstream))
        else:
            for x, local, down in zip(step.inputs, step.local, step.downstream):
                if x.requires_grad:
                    assert down == pytest.approx(local * step.upstream)
                else:  # a plain number (the neuron's -1 and 1) takes no gradient
                    assert down is None and x.__class__ is Constant


def test_order_is_a_topological_order():
    f, _ = lectures.neuron_gates()
    order = engine.topological_order(f)
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node._inputs:
            assert position[parent] > position[node] if parent.requires_grad else parent not in position


@pytest.mark.slow
def test_a_million_gate_chain_backprops_without_recursion():
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    assert y.data == 1_000_001.0
    assert sys.getrecursionlimit() == limit


def test_breakpoint_predicate_stops_exactly_where_it_is_true(monkeypatch):
    seen = []

    def hook(*args, **kwargs):
        frame = sys._getframe(1)
        step = frame.f_locals["step"]
        # stopped before the downstream gradients are sent
        seen.append((step.gate, [engine.has_gradient(p) for p in step.inputs]))

    monkeypatch.setattr(sys, "breakpointhook", hook)
    f, v = lectures.simple()
    f.backward(breakpoint=lambda step: step.gate == "add")
    assert [g for g, _ in seen] == ["add"]
    assert seen[0][1] == [False, False]  # x and y had received nothing yet
    assert v["x"].grad == -4.0


def test_a_predicate_that_raises_is_reported_with_the_step():
    f, _ = lectures.simple()
    with pytest.raises(RuntimeError, match=r"breakpoint predicate raised ZeroDivisionError: .*step 0 \(mul\)"):
        f.backward(breakpoint=lambda step: 1 / 0)
