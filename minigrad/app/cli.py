"""The ``minigrad`` command: ``minigrad demo``, ``minigrad train``, ``minigrad step SCRIPT`` and ``minigrad explore
SCRIPT``."""
from __future__ import annotations

import argparse
import builtins
import math
import sys
from pathlib import Path

ROOT_NAMES = ("root", "loss", "f")
"""Where ``minigrad step`` looks for the graph's output, in this order (see :func:`find_root`)."""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="minigrad", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="minigrad: a tiny autodiff framework that draws and steps through its own backprop.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="the main job: backprop of a lecture graph, then a CNN trained on real digits, drawn, stepped "
                     "and explored (explorer.html)",
        description="Print the lectures' first graph step by step, train a small CNN on the 1,797 real 8x8 digits "
                    "bundled with scikit-learn, and write learning curves, the drawn graph of one training step, "
                    "explorer.html (that training step to explore layer by layer in a browser: open its modules, "
                    "step through its backward, look at its tensors), an HTML backprop stepper and a checkpoint "
                    "into --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("--out", default="minigrad-demo", help="folder to write into")
    demo.add_argument("--epochs", type=integer(1), default=15, help="training epochs")
    train = commands.add_parser(
        "train", help="train a model of the zoo on digits or MNIST",
        description="Train a zoo model, print its test accuracy and write its learning curves and checkpoint into "
                    "--out. The checkpoint is saved after every epoch; Ctrl-C saves it too (after the current step) "
                    "and prints the command that resumes (--resume).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    from .jobs import DEFAULT_MODEL, MODELS

    train.add_argument("--model", default=DEFAULT_MODEL, choices=list(MODELS),
                       help="the model (digits_cnn needs 8x8 inputs, lenet5 28x28; the others take any size)")
    train.add_argument("--data", default="digits", type=data_spec, help="digits, or mnist:PATH for a folder of MNIST "
                                                                        "IDX files")
    train.add_argument("--epochs", type=integer(1), default=5, help="epochs to train (in all, with --resume)")
    train.add_argument("--lr", type=positive_number, default=1e-3, help="learning rate")
    train.add_argument("--batch-size", type=integer(1), default=64, help="samples per step")
    train.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="adam, or sgd with momentum 0.9")
    train.add_argument("--out", default="minigrad-train", help="folder for the checkpoint and curves")
    train.add_argument("--resume", metavar="PATH", default=None,
                       help="a checkpoint of minigrad train to continue from (same --model and --optimizer)")
    train.add_argument("--export-onnx", action="store_true",
                       help="also write the trained model as model.onnx beside the checkpoint (needs the onnx "
                            "package), for onnxruntime or netron")
    step = commands.add_parser(
        "step", help="run a Python script, then step through its graph's backprop in the terminal",
        description=(
            "Run SCRIPT as `python SCRIPT ARGS...` would (same folder, sys.argv = [SCRIPT, ARGS...]), then print "
            "its graph's backprop one step per Enter (q + Enter quits; at the end of input it runs to the end). "
            "The graph is the module-level variable named by --var, else `root`, `loss` or `f` (the first that "
            "is a Value or Tensor), else the newest Value or Tensor made by a gate among the script's "
            "module-level variables. The steps come from a dry run: the script's gradients are not changed."
        ),
    )
    step.add_argument("--all", action="store_true", help="print every step without waiting for Enter")
    step.add_argument("--var", metavar="NAME", help="the module-level variable holding the graph's output")
    step.add_argument("script", help="the Python script to run (e.g. examples/neuron.py)")
    step.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on to the script")
    explore = commands.add_parser(
        "explore", help="run a Python script, then write the explorer page of its graph (open it in a browser)",
        usage="minigrad explore [-h] [--out PAGE] [--var NAME] SCRIPT [ARGS ...] [-- ARGS ...]", allow_abbrev=False,
        description=(
            "Run SCRIPT as `minigrad step` does, find its graph the same way (--var, else `root`, `loss` or `f`, "
            "else the newest node), and write the explorer page of it: its modules to open, its last backward to "
            "step through, its tensors to look at. A script that never called backward() on it gets the forward "
            "pass only. Open the page in any browser; it needs no network. --out and --var may come before or "
            "after SCRIPT; every other argument goes to the script, and so does everything after `--` (for a "
            "script's own --out or --var: minigrad explore net.py --out page.html -- --out pictures)."
        ),
    )
    explore.add_argument("--out", metavar="PAGE", default="explorer.html", help="the page to write (default: %(default)s)")
    explore.add_argument("--var", metavar="NAME", help="the module-level variable holding the graph's output")
    explore.add_argument("script", metavar="SCRIPT", help="the Python script to run (e.g. examples/train_digits.py)")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["explore"]:
        args = explore_arguments(explore, argv[1:])
        return run_explore(Path(args.script), args.args, Path(args.out), var=args.var)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "demo":
        from .jobs import run_demo

        return _run("demo", lambda: run_demo(Path(args.out), epochs=args.epochs))
    if args.command == "train":
        from .jobs import run_train

        return _run("train", lambda: run_train(args.model, args.data, args.epochs, args.lr, args.batch_size,
                                               args.optimizer, args.out, resume=args.resume,
                                               export_onnx=args.export_onnx))
    if args.command == "step":
        return run_step(Path(args.script), args.args, wait=not args.all, var=args.var)
    return 0


def explore_arguments(parser, argv):
    """``minigrad explore``'s arguments: its own options wherever they are before a ``--``, the script, and what
    goes to the script (the other arguments, in their order, then everything after ``--``)."""
    cut = argv.index("--") if "--" in argv else len(argv)
    args, rest = parser.parse_known_args(argv[:cut])
    args.args = rest + argv[cut + 1:]
    return args


def _run(command, job):
    """Run a job; what goes wrong is one line on stderr, ``minigrad COMMAND: ...`` (2), Ctrl-C exits 130."""
    from .jobs import TrainingInterrupted

    try:
        job()
    except TrainingInterrupted as exc:
        print(f"\nminigrad {command}: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # the jobs say what they saved; this one came before training began
        print(f"\nminigrad {command}: interrupted before any training step; nothing to save", file=sys.stderr)
        return 130
    except KeyError as exc:  # load_state_dict's missing or unexpected keys
        print(f"minigrad {command}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, ImportError, *_minigrad_errors()) as exc:
        print(f"minigrad {command}: {exc}", file=sys.stderr)
        return 2
    return 0


def _minigrad_errors():
    """minigrad's own exception classes that are not ValueError, TypeError or OSError: a diverging run
    (NonFiniteLossError), detect_anomaly, a missing dot, a freed graph, a gate without a second derivative."""
    from ..core.engine import GraphFreedError
    from ..core.function import HigherOrderError
    from ..debug.anomaly import AnomalyError
    from ..train.loop import NonFiniteLossError
    from ..viz.render import DotNotFound

    return NonFiniteLossError, AnomalyError, DotNotFound, GraphFreedError, HigherOrderError


def integer(minimum):
    """An argparse type: an int ≥ ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer ≥ {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer ≥ {minimum}, got {value}")
        return value

    parse.__name__ = f"integer ≥ {minimum}"
    return parse


def positive_number(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def data_spec(text):
    """An argparse type: ``digits`` or ``mnist:PATH``."""
    if text == "digits" or (text.startswith("mnist:") and len(text) > len("mnist:")):
        return text
    raise argparse.ArgumentTypeError(f"must be 'digits' or 'mnist:PATH' (a folder with the IDX files), got {text!r}")


def run_step(script, script_args, wait=True, var=None, stdin=None, stdout=None):
    """``minigrad step``: run ``script``, find its graph, print one Step per line of input."""
    from ..viz.stepper import backprop_steps, final_gradients
    from ..core.text import fmt_value

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if not script.is_file():
        print(f"minigrad step: no such file: {script}", file=sys.stderr)
        return 2
    namespace = run_script(script, list(script_args[1:] if script_args[:1] == ["--"] else script_args))
    try:
        name, root = find_root(namespace, var)
    except (LookupError, TypeError) as exc:
        print(f"minigrad step: {script}: {exc}", file=sys.stderr)
        return 2
    if hasattr(root, "shape") and root.numel() != 1:
        print(f"minigrad step: {script}: `{name}` has shape {tuple(root.shape)}; stepping starts from a one-element "
              f"output, e.g. {name}.sum() or a loss", file=sys.stderr)
        return 2
    try:
        steps = backprop_steps(root, who=f"minigrad step: {script}")
    except (TypeError, ValueError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 2

    def say(text=""):
        print(text, file=stdout, flush=True)

    n = len(steps)
    keys = "  (Enter: next step, q + Enter: quit)" if wait else ""
    say(f"\n== backprop of `{name}` from {script}: {n} step{'s' if n != 1 else ''}{keys}")
    interactive = wait and stdin.isatty()
    for i, step in enumerate(steps):
        if wait and i > 0:
            if interactive:
                print("   [Enter/q] ", end="", file=stdout, flush=True)
            line = stdin.readline()
            if not line:  # end of input: run to the end
                wait = False
            elif line.strip().lower() in ("q", "quit"):
                say("(quit)")
                return 0
        say(f"step {i + 1}/{n}: {step}")
    out = root.label or name
    say(f"gradients of {out}:")
    for leaf, grad in final_gradients(steps):
        say(f"  d{out}/d{_leaf_name(leaf)} = {fmt_value(grad)}")
    return 0


def run_explore(script, script_args, out, var=None):
    """``minigrad explore``: run ``script``, find its graph, write the explorer page to ``out``."""
    from ..viz import DotNotFound, explore

    from ..viz.explorer import _check_path

    if not script.is_file():
        print(f"minigrad explore: no such file: {script}", file=sys.stderr)
        return 2
    try:
        _check_path(out)  # before the script runs: a training script may take a while
    except (FileNotFoundError, IsADirectoryError) as exc:
        print(f"minigrad explore: --out {out}: {str(exc).removeprefix('explore: ')}", file=sys.stderr)
        return 2
    namespace = run_script(script, list(script_args))
    try:
        name, root = find_root(namespace, var)
        page = explore(root, out, title=f"Backprop of `{name}` from {script.name}")
    except (LookupError, TypeError, ValueError, FileNotFoundError, IsADirectoryError, DotNotFound) as exc:
        print(f"minigrad explore: {script}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({page.views} views, {page.steps} backprop steps of `{name}`); open "
          f"{out.resolve().as_uri()} in a browser")
    if not page.steps:
        print(f"(no backward reached `{name}`: the page shows the forward pass; call {name}.backward() in the script "
              f"to step through its backprop)")
    return 0


def run_script(script, script_args):
    """Run ``script`` as ``python SCRIPT ARGS`` would and return its module-level variables.

    The script sees ``sys.argv == [SCRIPT, *ARGS]`` (none of minigrad's own arguments) and its
    folder first on ``sys.path``; it runs in the current folder, so the examples write their
    pictures into ./pictures unless given ``--out DIR``. ``sys.exit(0)`` at its end is fine.
    """
    namespace = {"__name__": "__main__", "__file__": str(script), "__builtins__": builtins}
    code = compile(script.read_bytes(), str(script), "exec")
    saved_argv, saved_path = sys.argv, sys.path[:]
    sys.argv = [str(script), *script_args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        exec(code, namespace)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
    return namespace


def find_root(namespace, var=None):
    """The graph to step through: ``(variable name, node)``.

    The variable named ``var`` if given; else the first of ``root``, ``loss``, ``f`` that holds
    a Value or Tensor; else the newest Value or Tensor made by a gate among the module-level
    variables (nodes inside lists, dicts or objects are not searched).
    """
    from ..core.scalar import Value
    from ..core.tensor import Tensor

    nodes = {k: v for k, v in namespace.items() if isinstance(v, (Value, Tensor)) and not k.startswith("__")}
    if var is not None:
        if var not in namespace:
            raise LookupError(f"the script defines no module-level variable `{var}`")
        if var not in nodes:
            raise TypeError(f"`{var}` is a {type(namespace[var]).__name__}, not a minigrad Value or Tensor")
        return var, nodes[var]
    for name in ROOT_NAMES:
        if name in nodes:
            return name, nodes[name]
    made = [(v._id, k) for k, v in nodes.items() if v._gate is not None]
    if not made:
        raise LookupError(
            "found no graph: the script has no module-level Value or Tensor made by a gate; assign the output to "
            "a variable named root, loss or f, or pass --var NAME"
        )
    name = max(made)[1]
    return name, nodes[name]


def _leaf_name(leaf):
    if leaf.label:
        return leaf.label
    if hasattr(leaf, "shape"):
        return f"(tensor {tuple(leaf.shape)})"
    return f"(constant {leaf.data!r})"


if __name__ == "__main__":
    sys.exit(main())
