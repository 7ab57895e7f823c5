"""ResNet's blocks from the lectures: shapes, parameter counts, and what the skip connection does to gradients.

A BasicBlock is relu(F(x) + shortcut(x)). When the block halves the resolution and widens the
channels, the shortcut is a 1×1 convolution ("projection") or the lectures' parameter-free
construction: subsample by the stride and zero-pad the new channels ("zeropad"). The add gate
distributes the upstream gradient to both paths, so even when F's gradients shrink, the
shortcut carries the gradient down unchanged: compare the first layer's gradient norm in a
deep stack of blocks with and without the skip connection.

    python examples/resnet_blocks.py
"""
import argparse

import numpy as np

import minigrad as mg
from minigrad import Tensor, models, nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--depth", type=int, default=12, help="blocks in the deep stack")
parser.add_argument("--out", default="pictures", help="(unused; for the examples' common interface)")
parser.add_argument("--quick", action="store_true", help="a shallower stack (for the smoke tests)")
args = parser.parse_args()
depth = 4 if args.quick else args.depth

x = Tensor(np.random.default_rng(0).standard_normal((4, 16, 8, 8)).astype(np.float32))
for shortcut in ("projection", "zeropad"):
    block = models.BasicBlock(16, 32, stride=2, shortcut=shortcut)
    print(f"\nBasicBlock(16, 32, stride=2, shortcut={shortcut!r}): output {block(x).shape}")
    nn.summary(block, (4, 16, 8, 8))
block = models.Bottleneck(64, 16, 64)
print(f"\nBottleneck(64, 16, 64): {sum(p.numel() for p in block.parameters()):,} parameters "
      f"(two 3×3 convs on 64 channels would need {2 * 64 * 64 * 9:,})")


class Plain(nn.Module):
    """The same block without its skip connection."""

    def __init__(self, ch):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch)
        self.conv2, self.bn2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch)

    def forward(self, x):
        return self.bn2(self.conv2(self.bn1(self.conv1(x)).relu())).relu()


print(f"\ngradient norm of the first conv's weight, {depth} blocks deep (8 channels):")
for name, make in (("with skip connections", lambda: models.BasicBlock(8, 8)), ("without", lambda: Plain(8))):
    mg.manual_seed(0)
    stack = nn.Sequential(*[make() for _ in range(depth)])
    out = stack(Tensor(np.random.default_rng(1).standard_normal((4, 8, 8, 8)).astype(np.float32)))
    (out * out).mean().backward()
    first = stack[0].conv1.weight.grad
    last = stack[-1].conv2.weight.grad
    print(f"  {name:<22} first block {np.linalg.norm(first):.3e}   last block {np.linalg.norm(last):.3e}")
