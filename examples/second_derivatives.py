"""Second derivatives: the backward pass is a graph of the same gates, so it can be differentiated again.

1. tanh: its first derivative is itself a graph (mul and sub gates fed by tanh's output); the
   second derivative, -2·tanh(x)·(1 - tanh²(x)), comes from backprop through that graph, and the
   third from backprop through the second's. Drawn side by side, each after the backward through
   it (so with its gradients): ``tanh_first.svg`` and ``tanh_second.svg``.
2. A Hessian-vector product of a small MLP, H·v, without forming H: the gradient with
   create_graph=True, its dot product with v, and one more gradient. Checked against the finite
   difference (∇L(w + εv) - ∇L(w - εv)) / 2ε.
3. A WGAN-GP-style gradient penalty on a small conv net: (‖∇ₓ critic(x)‖ - 1)², differentiated with
   respect to the critic's weights -- a gradient of a gradient.
4. One Newton step on a 2-parameter problem: w ← w - H⁻¹∇f, with H built from two Hessian-vector
   products; on a quadratic it lands on the minimum in one step.

    python examples/second_derivatives.py --out pictures
"""
import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, nn
from minigrad.viz import DotNotFound

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="(accepted for the smoke tests; this example is quick)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)


def save(diagram, name):
    try:
        print(f"  {diagram.render(out / name, format='svg', cleanup=True)}")
    except DotNotFound as exc:
        print(f"  ({exc})")


print("1. tanh, differentiated twice")
x = Tensor(np.array([0.5]), requires_grad=True, label="x")
y = x.tanh()
y.label = "y"
(first,) = mg.autograd.grad(y.sum(), [x], create_graph=True)
first.label = "dy/dx"
(second,) = mg.autograd.grad(first.sum(), [x], create_graph=True)
second.label = "d²y/dx²"
first_drawing = mg.draw(first)  # with the gradients of the backward through it
(third,) = mg.autograd.grad(second.sum(), [x], retain_graph=True)  # a backward through the second's graph,
second_drawing = mg.draw(second)  # so that its drawing shows gradients too
t = np.tanh(0.5)
print(f"   dy/dx = {first.item():.6f} (1 - tanh² = {1 - t * t:.6f}); d²y/dx² = {second.item():.6f} "
      f"(-2·tanh·(1 - tanh²) = {-2 * t * (1 - t * t):.6f})")
print(f"   d³y/dx³ = {third.item():.6f} (-2·(1 - tanh²)² + 4·tanh²·(1 - tanh²) = "
      f"{-2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t):.6f})")
save(first_drawing, "tanh_first")
save(second_drawing, "tanh_second")

print("2. a Hessian-vector product of an MLP")
mg.manual_seed(0)
rng = np.random.default_rng(0)
mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
xb, yb = Tensor(rng.standard_normal((16, 4))), rng.integers(0, 3, 16)
params = list(mlp.parameters())
v = [rng.standard_normal(p.shape) for p in params]


def gradients():
    return mg.autograd.grad(F.cross_entropy(mlp(xb), yb), params, create_graph=True)


grads = gradients()
dot = sum((g * vi).sum() for g, vi in zip(grads, v))
hv = mg.autograd.grad(dot, params)
eps = 1e-5
with mg.no_grad():
    for p, vi in zip(params, v):
        p += eps * vi
plus = [g.data.copy() for g in gradients()]
with mg.no_grad():
    for p, vi in zip(params, v):
        p -= 2 * eps * vi
minus = [g.data.copy() for g in gradients()]
with mg.no_grad():
    for p, vi in zip(params, v):
        p += eps * vi
numeric = [(a - b) / (2 * eps) for a, b in zip(plus, minus)]
worst = max(float(np.max(np.abs(h - n))) for h, n in zip(hv, numeric))
print(f"   H·v for {sum(p.numel() for p in params)} parameters; largest difference from finite differences {worst:.2e}")

print("3. a WGAN-GP-style gradient penalty on a small conv critic")
critic = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 8 * 8, 1)).double()
opt = mg.optim.Adam(critic.parameters(), lr=1e-2)
images = Tensor(rng.standard_normal((8, 1, 8, 8)), requires_grad=True)
for step in range(3 if args.quick else 20):
    opt.zero_grad()
    scores = critic(images)
    (grad_x,) = mg.autograd.grad(scores.sum(), [images], create_graph=True)
    norms = (grad_x * grad_x).sum(dim=(1, 2, 3)).sqrt()
    penalty = ((norms - 1) ** 2).mean()
    penalty.backward()  # through the gradient: the critic's weights get d(penalty)/dw
    opt.step()
    if step == 0 or step == (2 if args.quick else 19):
        print(f"   step {step}: gradient norms {norms.data.mean():.3f} ± {norms.data.std():.3f}, penalty {penalty.item():.4f}")

print("4. one Newton step on f(w) = (w₀ - 1)² + 10·(w₁ + 2)² + w₀·w₁")
w = Tensor(np.array([3.0, 3.0]), requires_grad=True, label="w")


def f(w):
    return (w[0] - 1) ** 2 + 10 * (w[1] + 2) ** 2 + w[0] * w[1]


(g,) = mg.autograd.grad(f(w), [w], create_graph=True)
hessian = np.stack([mg.autograd.grad(g[k], [w], retain_graph=True)[0] for k in range(2)])
step = np.linalg.solve(hessian, g.data)
with mg.no_grad():
    w -= step
(g_after,) = mg.autograd.grad(f(w), [w])
print(f"   H = {hessian.tolist()}; after one step w = {np.round(w.data, 6).tolist()}, ∇f = {np.round(g_after, 9).tolist()}")
