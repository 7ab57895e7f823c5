"""``python -m bench [NAME ...] [--quick]``: run the benchmarks (all by default) and print their tables."""
import sys

from . import norm, scalar, tensor_overhead

SUITES = {"scalar": scalar.main, "overhead": tensor_overhead.main, "norm": norm.main}


def main(argv):
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("-")] or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    for name in names:
        print(f"\n## {name}\n")
        SUITES[name](quick=quick)


main(sys.argv[1:])
