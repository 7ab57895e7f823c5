"""Multi-task learning: one network says which digit it sees and draws a box around it.

The lecture notes' bounding-box head: a second output layer predicts the corners of the object's
box, and training "computes 2 divergences over 2 output layers" -- cross-entropy of the class
layer plus λ times the L2 loss of the box layer. The task is synthetic: each real 8×8 digit is
pasted at a random place on a blank 16×16 canvas and its box is the rectangle around its ink,
corners (x0, y0, x1, y1) as fractions of the canvas.

LocalizationNet shares one convolutional trunk between a classifier (global max pool: *what*,
wherever it is) and a box regressor (the flattened maps: *where*). Both heads learn together:
test accuracy goes up and the mean IoU of the boxes climbs far above the IoU of always
predicting the average box. For comparison the same net is trained with λ = 0: its box head
gets no gradient and its IoU stays near 0. Writes the curves and a grid of predicted boxes.

    python examples/localization.py --epochs 6 --out pictures
"""
import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import data, optim
from minigrad.train.multitask import LocalizationNet, box_iou, evaluate_localization, fit_localization, make_localization_data

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--canvas", type=int, default=16, help="side of the canvas (a multiple of 4)")
parser.add_argument("--box-weight", type=float, default=1.0, help="λ in cross-entropy + λ·MSE")
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="two epochs on 480 digits (for the smoke tests)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

(x_train, y_train), (x_test, y_test) = data.load_digits()
if args.quick:
    x_train, y_train = x_train[:480], y_train[:480]
epochs = 2 if args.quick else args.epochs
train = make_localization_data(x_train, y_train, canvas=args.canvas, seed=0)
test = make_localization_data(x_test, y_test, canvas=args.canvas, seed=1)
mean_box = np.broadcast_to(train[2].mean(axis=0), test[2].shape)
print(f"{len(train[0])} training digits on a {args.canvas}×{args.canvas} canvas; boxes (x0, y0, x1, y1), e.g. "
      f"{np.round(train[2][0], 3)} for a {train[1][0]}")
print(f"baselines on the test set: accuracy 10% by chance, mean IoU {box_iou(mean_box, test[2]).mean():.3f} "
      f"for always predicting the average box")


def run(box_weight):
    mg.manual_seed(0)
    model = LocalizationNet(canvas=args.canvas)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    history = fit_localization(model, train, opt, epochs, box_weight=box_weight, val=test)
    for epoch, (acc, iou) in enumerate(zip(history.val_accuracy, history.val_iou), 1):
        print(f"  λ={box_weight:g} epoch {epoch}: test accuracy {acc:.1%}, mean IoU {iou:.3f}")
    return model, history


print(f"training with loss = cross-entropy + {args.box_weight:g}·MSE(box corners), {epochs} epoch(s):")
model, history = run(args.box_weight)
scores = evaluate_localization(model, *test)
print(f"after training: test accuracy {scores['accuracy']:.1%}, mean IoU {scores['iou']:.3f}, "
      f"{np.mean(box_iou(scores['boxes'], test[2]) > 0.5):.0%} of boxes with IoU > 0.5, "
      f"box corners off by {np.sqrt(scores['box_mse']) * args.canvas:.2f} pixels (RMS); {history.seconds:.1f} s")
if not args.quick:
    print("the same net with λ = 0 (the box head is never taught):")
    run(0.0)

try:
    from minigrad.viz.recipe_plots import plot_boxes, plot_localization

    shown = slice(0, 16)
    print("wrote", plot_localization(history, out / "localization_curves.png", window=10), "and",
          plot_boxes(test[0][shown], test[2][shown], scores["boxes"][shown], out / "localization_boxes.png",
                     labels=test[1][shown], pred_labels=scores["classes"][shown]))
except ImportError:
    print("(pip install matplotlib for the plots)")
