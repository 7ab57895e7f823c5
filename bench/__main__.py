"""``python -m bench [NAME ...] [--quick] [--threads N]``: run the benchmarks (all by default), print their tables.

Every figure sits beside its peer's, measured in the same run. ``--threads N`` sets numpy's BLAS and
PyTorch to N threads for the tensor suites (default: numpy's BLAS thread count, PyTorch set to match).
``python bench/run.py`` is the same command for running the file directly.
"""
import os
import platform
import sys
import time

from . import cnn_ops, explorer, higher_order, memory, models, norm, recording, scalar, scaling, tensor_overhead

SUITES = {
    "scalar": scalar.main,  # MLP vs micrograd, 1M-gate chains, engine overhead
    "overhead": tensor_overhead.main,  # per-gate cost on small tensors vs PyTorch
    "conv": cnn_ops.main,  # conv2d (3×3, stride 2, depthwise), pooling; GFLOP/s vs numpy's matmul
    "norm": norm.main,  # batch norm, cross-entropy
    "models": models.main,  # LeNet-5 train step, ResNet basic block
    "memory": memory.main,  # flat RSS over 30 steps, one LeNet-5 step's peak
    "recording": recording.main,  # what backward's records for the drawings cost
    "scaling": scaling.main,  # LeNet-5 at batch 1-256, the conv at 8-64 pixels, the scalar MLP at 10-1,000 points
    "higher_order": higher_order.main,  # a Hessian-vector product beside one forward + backward
    "explorer": explorer.main,  # the explorer page's write time and size: LeNet-5, ResNet-18-sized, chains
}


def main(argv):
    quick = "--quick" in argv
    threads = None
    if "--threads" in argv:
        i = argv.index("--threads")
        threads = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    names = [a for a in argv if not a.startswith("-")] or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    import numpy as np

    import minigrad

    print(f"minigrad from {minigrad.__file__}; numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}; "
          f"malloc {minigrad.core.allocator.status()}{_blas()}")
    for name in names:
        print(f"\n## {name}\n", flush=True)
        SUITES[name](quick=quick, threads=threads)


def _blas():
    """numpy's BLAS and the kernels it picked for this CPU (OpenBLAS may pick older ones: bench/README.md)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ""
    for p in threadpool_info():
        if p.get("user_api") == "blas":
            return f"; BLAS {p.get('internal_api')} {p.get('version')}, {p.get('architecture')} kernels"
    return ""


if __name__ == "__main__":
    main(sys.argv[1:])
