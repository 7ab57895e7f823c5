"""Grad-CAM on the digits: which pixels made the trained CNN say "3"?

Trains digits_cnn (conv-BN-ReLU-pool twice, then a linear classifier) on the 8×8 digits, then
asks it a question with backprop: hooks on the second conv layer's output keep its feature maps
A_k (32 channels, 4×4 each) and the gradient of the class score y_c with respect to them. By
default the maps are taken after that layer's BatchNorm and ReLU (model[6]), the rectified
feature maps the Grad-CAM paper uses; --layer 4 takes the raw conv output (blurrier maps).
Each channel's weight is the average of that gradient, α_k = mean_ij ∂y_c/∂A_k[i, j], and the
heat map relu(Σ_k α_k A_k), upsampled to 8×8 and scaled to [0, 1], shows where the evidence for
the class lies. The gradient here is not for learning: no parameter's .grad changes.

Writes grad_cam.png into --out: a few test digits, their predicted and true labels, and the
Grad-CAM of the predicted class over each.

    python examples/grad_cam.py --epochs 5 --out pictures
"""
import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import data, models, optim
from minigrad.train import evaluate, fit
from minigrad.viz import grad_cam, plot_grad_cam

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--layer", type=int, default=6,
                    help="index in digits_cnn of the layer to explain (4: conv2, 6: its ReLU)")
parser.add_argument("--count", type=int, default=8, help="test digits to explain")
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="one epoch (for the smoke tests)")
args = parser.parse_args()
epochs = 1 if args.quick else args.epochs

(x_train, y_train), (x_test, y_test) = data.load_digits()
mg.manual_seed(0)
model = models.digits_cnn()
optimizer = optim.Adam(model.parameters(), lr=3e-3)
fit(model, data.DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=0), optimizer, epochs=epochs,
    progress=False)
loss, acc = evaluate(model, x_test, y_test)
print(f"digits_cnn after {epochs} epoch(s): test accuracy {acc:.2%} (loss {loss:.4f})")

# one test digit of each class, in order
picks = np.array([np.flatnonzero(y_test == c)[0] for c in range(10)])[: args.count]
images, labels = x_test[picks], y_test[picks]
layer = model[args.layer]  # 4: the second Conv2d, (N, 16, 4, 4) -> (N, 32, 4, 4); 5: its BatchNorm; 6: its ReLU
with mg.no_grad():
    predicted = model.eval()(mg.Tensor(images)).data.argmax(axis=1)
cams = grad_cam(model, images, target_class=predicted, layer=layer)

print(f"Grad-CAM of the predicted class at layer {args.layer} ({layer!r}), heat maps {cams.shape}:")
rows, cols = np.indices(cams.shape[1:])
for label, guess, cam in zip(labels, predicted, cams):
    mass = cam / cam.sum() if cam.sum() > 0 else cam
    centre = (float((mass * rows).sum()), float((mass * cols).sum()))
    print(f"  digit {label}: predicted {guess}, heat centred at row {centre[0]:.1f}, column {centre[1]:.1f} "
          f"(of 0-7), {int((cam > 0.5).sum())} pixels above half the peak")

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
titles = [f"{g} (true {t})" for g, t in zip(predicted, labels)]
print("wrote", plot_grad_cam(images, cams, out / "grad_cam.png", titles=titles))
