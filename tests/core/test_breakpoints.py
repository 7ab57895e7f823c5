"""backward(breakpoint=...) on a real model: the debugger stops once, at the conv, before it sends anything."""
import sys

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, engine, nn


def test_breakpoint_on_the_one_conv_fires_exactly_once_before_its_downstream_is_sent(monkeypatch):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(12, 10))
    conv = model[0]
    x = Tensor(np.random.default_rng(0).random((4, 1, 6, 6)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(model(x), [1, 2, 3, 4])
    seen = []

    def hook(*args, **kwargs):
        step = sys._getframe(1).f_locals["step"]  # what `p step` shows in pdb
        seen.append({
            "gate": step.gate, "inputs": step.inputs, "upstream": step.upstream.shape,
            "received": [engine.has_gradient(node) for node in step.inputs],
            "grads": [node.grad for node in step.inputs],
            "downstream": [None if g is None else g.shape for g in step.downstream],
        })

    monkeypatch.setattr(sys, "breakpointhook", hook)
    loss.backward(breakpoint=lambda step: step.gate == "conv2d")

    assert len(seen) == 1
    stop = seen[0]
    assert stop["gate"] == "conv2d"
    assert stop["inputs"][0] is x and stop["inputs"][1] is conv.weight and stop["inputs"][2] is conv.bias
    assert stop["upstream"] == (4, 3, 4, 4)  # dL/dO has the conv output's shape
    assert stop["downstream"] == [(4, 1, 6, 6), (3, 1, 3, 3), (3,)]  # computed, in scope ...
    assert stop["received"] == [False, False, False]  # ... but not yet sent to the input, weight and bias
    assert stop["grads"] == [None, None, None]
    # and once the debugger continues, backprop finishes as usual
    assert x.grad.shape == (4, 1, 6, 6) and conv.weight.grad.shape == (3, 1, 3, 3)
    assert all(p.grad is not None for p in model.parameters())
