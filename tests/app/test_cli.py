"""The `minigrad` command."""
import configparser
import importlib
import importlib.metadata
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.app.cli import main

ROOT = Path(__file__).parent.parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def minigrad_command(*args, timeout=300):
    """``python -m minigrad ARGS`` from the repository root, so it runs this checkout's package."""
    return subprocess.run([sys.executable, "-m", "minigrad", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_help_works():
    out = subprocess.run([sys.executable, "-m", "minigrad", "--help"], capture_output=True, text=True, check=True)
    assert "demo" in out.stdout


def test_the_console_script_names_a_function_that_runs(capsys):
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = dict(line.replace(" ", "").split("=") for line in
                   config["options.entry_points"]["console_scripts"].strip().splitlines())
    module, _, name = scripts["minigrad"].partition(":")
    command = getattr(importlib.import_module(module), name)
    with pytest.raises(SystemExit) as done:
        command(["--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: minigrad") and "demo" in help_text and "train" in help_text
    try:  # the installed metadata (what the `minigrad` script runs) says the same as this setup.cfg
        installed = importlib.metadata.distribution("minigrad").entry_points
    except importlib.metadata.PackageNotFoundError:
        return
    assert [ep.value for ep in installed if ep.group == "console_scripts" and ep.name == "minigrad"] == [
        scripts["minigrad"]]


def test_demo_with_one_epoch_trains_and_writes_everything(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    assert main(["demo", "--out", str(tmp_path), "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "mul: upstream 1.0 × local (-4.0, 3.0) = downstream (-4.0, 3.0)" in out
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert accuracy > 80  # one epoch; the full demo (15 epochs) reaches about 99%
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {"learning_curves.png", "training_step.svg", "training_step_layers.svg",
                       "backprop_stepper.html", "explorer.html", "checkpoint.npz"}
    assert "explorer.html in a browser" in out and "file://" in out  # and it says how to open it
    assert "Changed in place" not in (tmp_path / "explorer.html").read_text(encoding="utf-8")  # explored before
    # the snapshot put the weights back (which counts as changing them)
    assert (tmp_path / "training_step.svg").read_text().count("<svg") == 1
    assert minigrad.load(tmp_path / "checkpoint.npz")["epoch"] == 1
    for name in written:
        assert str(tmp_path / name) in out  # it says what it wrote


def test_train_command_and_its_errors(tmp_path, capsys):
    pytest.importorskip("sklearn")
    assert main(["train", "--model", "resnet", "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert "resnet on digits: test accuracy" in capsys.readouterr().out
    assert main(["train", "--model", "lenet5", "--out", str(tmp_path)]) == 2
    assert "lenet5 needs 28×28 inputs" in capsys.readouterr().err
    assert main(["train", "--data", "mnist:" + str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2


def test_the_full_demo_reaches_97_percent_and_writes_what_it_says(tmp_path):
    """Issue 5's promise for `minigrad demo` at its defaults (about 10 s)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    run = minigrad_command("demo", "--out", str(tmp_path / "demo"))
    assert run.returncode == 0, run.stderr
    epochs = int(re.search(r"(\d+) epochs, \d+ steps in", run.stdout).group(1))
    accuracy = float(re.search(r"test accuracy ([\d.]+)% on \d+ held-out digits", run.stdout).group(1))
    assert accuracy >= 97
    report = run.stdout.split("3. Writing what it did:")[1]
    written = [Path(line.split("  — ")[0].strip()) for line in report.splitlines() if "  — " in line]
    assert {p.name for p in written} >= {"learning_curves.png", "checkpoint.npz"}
    for path in written:
        assert path.parent == tmp_path / "demo" and path.is_file() and path.stat().st_size > 0, path
    assert (tmp_path / "demo" / "learning_curves.png").read_bytes()[:8] == PNG
    saved = minigrad.load(tmp_path / "demo" / "checkpoint.npz")
    assert saved["epoch"] == epochs and round(100 * float(saved["test_accuracy"]), 2) == accuracy


def write_mnist_of_squares(folder, seed=0):
    """MNIST-format IDX files a LeNet-5 learns in two epochs: class k is a bright 5×5 square at the k-th of
    ten places, on noise."""
    sys.path.insert(0, str(Path(__file__).parent.parent / "data"))
    from test_data import idx_bytes  # the IDX writer of the load_mnist tests

    rng = np.random.default_rng(seed)
    for prefix, n in (("train", 320), ("t10k", 100)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for image, k in zip(images, labels):
            row, col = 4 + (k // 5) * 14, 1 + (k % 5) * 5
            image[row : row + 5, col : col + 5] = 255
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(2051, images))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(2049, labels))


def test_train_lenet5_on_mnist_idx_files(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_mnist_of_squares(folder)
    run = minigrad_command("train", "--model", "lenet5", "--data", f"mnist:{folder}", "--epochs", "2", "--lr", "3e-3",
                           "--batch-size", "32", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    found = re.search(rf"lenet5 on mnist:{re.escape(str(folder))}: test accuracy ([\d.]+)% \(loss [\d.]+\) "
                      rf"after 2 epochs", run.stdout)
    assert found, run.stdout
    assert float(found.group(1)) >= 60  # chance is 10%: it learnt
    saved = minigrad.load(tmp_path / "out" / "checkpoint.npz")
    assert saved["epoch"] == 2 and saved["model"]["0.weight"].shape == (6, 1, 5, 5)  # LeNet-5's first conv
    assert (tmp_path / "out" / "learning_curves.png").read_bytes()[:8] == PNG


def test_every_zoo_model_runs_on_the_sizes_it_is_said_to_take_and_names_the_others(tmp_path, capsys):
    """The default digits_cnn on 28×28 MNIST failed deep inside with "linear: input has 1568 features"."""
    from minigrad.app import jobs

    for name, build in jobs.MODELS.items():
        for size in (8, 28):
            need = jobs.NEEDS_SIZE.get(name, size)
            if need == size:
                model = build(1, size)
                model.eval()
                assert model(minigrad.tensor(np.zeros((2, 1, size, size), np.float32))).shape == (2, jobs.CLASSES)
                jobs.check_size(name, "data", size)
            else:
                with pytest.raises(ValueError, match=rf"^{name}.* needs {need}×{need} inputs but data has "
                                                     rf"{size}×{size}; .* pick --model "):
                    jobs.check_size(name, "data", size)
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_mnist_of_squares(folder)
    assert main(["train", "--data", f"mnist:{folder}", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"minigrad train: digits_cnn (the default --model) needs 8×8 inputs but mnist:{folder} has 28×28; use it with "
        f"the digits, or for 28×28 inputs pick --model lenet5, resnet, vgg or googlenet\n")


def test_labels_outside_the_models_classes_are_refused_when_the_data_is_loaded(tmp_path, capsys, monkeypatch):
    """MNIST labels above 9 ended in an IndexError traceback from cross_entropy."""
    from minigrad.app import jobs

    folder = tmp_path / "mnist"
    folder.mkdir()
    write_mnist_of_squares(folder)
    from test_data import idx_bytes  # importable once write_mnist_of_squares has run

    labels = np.full(100, 3, np.uint8)
    labels[7] = 12
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(2049, labels))
    monkeypatch.setattr(jobs, "fit", lambda *a, **k: pytest.fail("trained on labels the model cannot have"))
    assert main(["train", "--model", "lenet5", "--data", f"mnist:{folder}", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"minigrad train: --data mnist:{folder}: the test labels hold class 12 (1 of 100 labels), but the models have "
        f"10 classes: labels must be 0..9\n")


def test_a_diverging_run_is_one_line_that_says_where_and_suggests_a_lower_lr(tmp_path, capsys):
    """--lr 1e30 ended in a NonFiniteLossError (FloatingPointError) traceback, exit status 1."""
    pytest.importorskip("sklearn")
    assert main(["train", "--lr", "1e30", "--optimizer", "sgd", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"minigrad train: the loss became nan at step \d+ \(epoch 1\) with --lr 1e\+30: the run "
                        r"diverged; try a lower --lr, e.g. --lr 1e\+29\n", err), err


def test_train_on_a_missing_mnist_folder_names_the_path(tmp_path):
    nowhere = tmp_path / "no-mnist-here"
    run = minigrad_command("train", "--model", "lenet5", "--data", f"mnist:{nowhere}", "--out", str(tmp_path))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"minigrad train: load_mnist: the folder {str(nowhere)!r} does not exist" in run.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    run = minigrad_command("train", "--model", "lenet5", "--data", f"mnist:{empty}", "--out", str(tmp_path))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert (f"the folder {str(empty)!r} has no train-images-idx3-ubyte[.gz], no train-labels-idx1-ubyte[.gz]"
            in run.stderr)


# --- minigrad step: backprop in the terminal, one step per Enter ---------------------------------


def test_step_all_prints_every_step_and_the_leaves_gradients(tmp_path, capsys):
    script = ROOT / "examples" / "simple.py"
    assert main(["step", "--all", str(script), "--", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.split(f"== backprop of `f` from {script}: 2 steps\n")[1]
    assert out.splitlines() == [
        "step 1/2: mul: upstream 1.0 × local (-4.0, 3.0) = downstream (-4.0, 3.0)",
        "step 2/2: add: upstream -4.0 × local (1.0, 1.0) = downstream (-4.0, -4.0)",
        "gradients of f:",
        "  df/dx = -4.0",
        "  df/dy = -4.0",
        "  df/dz = 3.0",
    ]
    assert (tmp_path / "simple.svg").exists()  # the script ran with its own arguments


def test_step_through_the_neuron_one_enter_at_a_time_then_quit(tmp_path):
    # a real terminal session would be a TTY; piped lines work the same way: one line, one step
    run = subprocess.run(
        [sys.executable, "-m", "minigrad", "step", str(ROOT / "examples" / "neuron.py"), "--out", str(tmp_path)],
        input="\n\nq\n", capture_output=True, text=True, check=True, timeout=60,
    )
    stepped = [line for line in run.stdout.splitlines() if line.startswith("step ")]
    assert stepped == [
        "step 1/5: sigmoid: upstream 1.0 × local (0.196612) = downstream (0.196612)",
        "step 2/5: add: upstream 0.196612 × local (1.0, 1.0) = downstream (0.196612, 0.196612)",
        "step 3/5: add: upstream 0.196612 × local (1.0, 1.0) = downstream (0.196612, 0.196612)",
    ]
    assert run.stdout.rstrip().endswith("(quit)")


def test_step_runs_to_the_end_when_input_ends(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))  # one Enter, then end of input
    assert main(["step", str(ROOT / "examples" / "neuron.py"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "step 5/5: mul: upstream 0.196612 × local (-1.0, 2.0) = downstream (-0.196612, 0.393224)" in out
    assert "  df/dw0 = -0.196612" in out and "  df/dx1 = -0.589836" in out


def test_step_finds_the_graph_by_the_documented_rule(tmp_path, capsys):
    script = tmp_path / "mine.py"
    script.write_text(
        "import sys\n"
        "from minigrad import Value\n"
        "assert sys.argv[1:] == [], sys.argv  # none of minigrad's own arguments\n"
        "a = Value(2.0, 'a')\n"
        "loss = a * a\n"
        "other = a + 1.0\n"
        "sys.exit(0)\n"
    )
    assert main(["step", "--all", str(script)]) == 0
    out = capsys.readouterr().out
    assert "backprop of `loss`" in out and "copy: upstream 2.0 + 2.0 = downstream 4.0" in out
    assert main(["step", "--all", "--var", "other", str(script)]) == 0
    assert "  dother/da = 1.0" in capsys.readouterr().out
    script.write_text("from minigrad import Value\nx = Value(1.0, 'x')\ny = x * 3\nz = y.exp()\n")
    assert main(["step", "--all", str(script)]) == 0
    assert "backprop of `z`" in capsys.readouterr().out  # no root/loss/f: the newest node


def test_step_errors_are_clear(tmp_path, capsys):
    assert main(["step", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    script = tmp_path / "empty.py"
    script.write_text("x = 1\n")
    assert main(["step", "--all", str(script)]) == 2
    assert "found no graph" in capsys.readouterr().err
    assert main(["step", "--all", "--var", "x", str(script)]) == 2
    assert "`x` is a int, not a minigrad Value or Tensor" in capsys.readouterr().err
    script.write_text(
        "import minigrad as mg\nx = mg.tensor([1.0, 2.0], requires_grad=True)\nloss = (x * x).sum()\n"
        "with mg.core.engine.recording(False):\n    loss.backward()\n"
    )
    assert main(["step", "--all", str(script)]) == 2
    assert "freed by an earlier backward()" in capsys.readouterr().err


# --- minigrad train and demo: numbers checked, one error prefix, --out first, nothing trained is lost ---------


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "-1"], "minigrad train: error: argument --epochs: must be an integer ≥ 1, got -1"),
    (["demo", "--epochs", "0"], "minigrad demo: error: argument --epochs: must be an integer ≥ 1, got 0"),
    (["train", "--epochs", "2.5"], "argument --epochs: must be an integer ≥ 1, got '2.5'"),
    (["train", "--batch-size", "0"], "argument --batch-size: must be an integer ≥ 1, got 0"),
    (["train", "--lr", "0"], "argument --lr: must be a finite number > 0, got 0"),
    (["train", "--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
    (["train", "--lr", "fast"], "argument --lr: must be a number > 0, got 'fast'"),
    (["train", "--model", "alexnet"], "argument --model: invalid choice: 'alexnet' (choose from"),
    (["train", "--data", "mnist:"], "argument --data: must be 'digits' or 'mnist:PATH'"),
])
def test_every_number_and_choice_is_checked_before_anything_runs(argv, message, capsys):
    """--epochs -1 was reported as a success; demo --epochs 0 ended in a scheduler traceback."""
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_shows_the_defaults_and_the_models(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # as wrapped to any terminal width
    assert "{digits_cnn,lenet5,resnet,vgg,googlenet}" in out
    for default in ("(default: digits_cnn)", "(default: 5)", "(default: 0.001)", "(default: 64)", "(default: adam)",
                    "(default: minigrad-train)"):
        assert default in out, default
    assert "--resume PATH" in out
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "(default: 15)" in capsys.readouterr().out


def test_one_error_prefix(tmp_path, capsys):
    pytest.importorskip("sklearn")
    assert main(["train", "--model", "lenet5", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "minigrad train: lenet5 needs 28×28 inputs but digits has 8×8; use it with mnist:PATH, or for 8×8 inputs "
        "pick --model digits_cnn, resnet, vgg or googlenet\n")  # was "minigrad train: train: ..."


def test_a_bad_out_fails_before_training_in_one_line(tmp_path, capsys, monkeypatch):
    from minigrad.app import jobs

    monkeypatch.setattr(jobs, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
    monkeypatch.setattr(jobs, "load_data", lambda *a, **k: pytest.fail("loaded the data before checking --out"))
    (tmp_path / "afile").write_text("x")
    assert main(["train", "--out", str(tmp_path / "afile")]) == 2
    assert capsys.readouterr().err == f"minigrad train: --out {tmp_path / 'afile'}: it is a file, not a folder; " \
                                      f"give a folder to write into\n"
    assert main(["train", "--out", str(tmp_path / "afile" / "runs")]) == 2
    assert capsys.readouterr().err == f"minigrad train: --out {tmp_path / 'afile' / 'runs'}: cannot write there " \
                                      f"(Not a directory)\n"
    assert main(["demo", "--out", str(tmp_path / "afile")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigrad demo: ") and err.count("\n") == 1 and "Traceback" not in err


def test_a_checkpoint_every_epoch_and_every_os_error_in_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sklearn")
    from minigrad.app import jobs

    saved = []
    real_save = jobs.checkpoint.save
    monkeypatch.setattr(jobs.checkpoint, "save", lambda obj, path: saved.append(obj["epoch"]) or real_save(obj, path))
    assert main(["train", "--epochs", "2", "--out", str(tmp_path)]) == 0
    assert saved == [1, 2] and minigrad.load(tmp_path / "checkpoint.npz")["epoch"] == 2

    def full_disk(obj, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs.checkpoint, "save", full_disk)
    capsys.readouterr()
    assert main(["train", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "minigrad train: [Errno 28] No space left on device\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_saves_the_model_and_optimiser_says_how_to_resume_and_exits_130(tmp_path, capsys):
    """Ctrl-C printed a KeyboardInterrupt traceback and saved nothing. One SIGINT, mid-training."""
    import signal
    import time

    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "minigrad", "train", "--epochs", "200", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.npz").exists():  # saved after the first epoch: training is under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopping after this step, then saving" in err
    found = re.search(r"minigrad train: interrupted after (\d+) steps: saved the model and optimiser to (\S+) "
                      r"\((\d+) of 200 epochs done", err)
    assert found and found.group(2) == str(out / "checkpoint.npz"), err
    command = err.split("Resume with:\n  ")[1].split()
    assert command[:2] == ["minigrad", "train"] and command[-2:] == ["--resume", str(out / "checkpoint.npz")]
    saved = minigrad.load(out / "checkpoint.npz")
    done = int(found.group(3))
    assert saved["epoch"] == done >= 1 and saved["model_name"] == "digits_cnn"
    assert saved["optimizer"]["state"][0]["step"] == int(found.group(1))  # every step taken is in the checkpoint
    # resume, here for one epoch more: the same command with another --epochs
    command[command.index("--epochs") + 1] = str(done + 1)
    assert main(command[1:]) == 0
    assert f"resuming from {out / 'checkpoint.npz'}: {done} of {done + 1} epochs done" in capsys.readouterr().out
    assert minigrad.load(out / "checkpoint.npz")["epoch"] == done + 1


CHILD = """
import sys, time
import minigrad.app.jobs as jobs
from minigrad.app.cli import main

command, slow, out = sys.argv[1:4]
real_fit = jobs.fit


def fit(*args, on_step, **kwargs):  # each step says so, and takes a little longer, for the test to follow
    def step(number, loss):
        print("STEP", number, flush=True)
        time.sleep(0.02)
        return on_step(number, loss)

    return real_fit(*args, on_step=step, **kwargs)


def slowly(real, word):  # the second Ctrl-C arrives while this runs
    def run(*args, **kwargs):
        print(word, flush=True)
        time.sleep(1.0)
        return real(*args, **kwargs)

    return run


jobs.fit = fit
if slow == "save":
    jobs.checkpoint.save = slowly(jobs.checkpoint.save, "SAVING")
elif slow == "plot":
    jobs._plot = slowly(jobs._plot, "PLOTTING")
sys.exit(main([command, "--out", out, "--epochs", "30"]))
"""


def interrupt(tmp_path, command, presses):
    """Run ``minigrad COMMAND`` (through CHILD) and press Ctrl-C once its output shows each word of ``presses``
    (``(word, slow)``: ``slow`` is what CHILD slows down); returns (exit status, stderr, out folder)."""
    import queue
    import signal
    import threading
    import time

    child, out = tmp_path / "child.py", tmp_path / "out"
    child.write_text(CHILD)
    slow = presses[-1][1]
    proc = subprocess.Popen([sys.executable, str(child), command, slow, str(out)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put("")], daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        for word, _ in presses:
            line = None
            while line is None or not line.startswith(word):
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))  # queue.Empty past the deadline
                assert line, f"the command ended before printing {word}: {proc.communicate(timeout=60)}"
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err, out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("during", ["save", "plot"])
def test_a_second_ctrl_c_while_saving_still_saves_and_says_how_to_resume(tmp_path, during):
    """A second Ctrl-C while the first one's checkpoint was saved (or its curves plotted) printed "interrupted
    before any training step; nothing to save", without the resume command, though the checkpoint was saved."""
    pytest.importorskip("sklearn")
    word = {"save": "SAVING", "plot": "PLOTTING"}[during]
    status, err, out = interrupt(tmp_path, "train", [("STEP 3", during), (word, during)])
    assert status == 130, err
    assert "Traceback" not in err and "nothing to save" not in err
    found = re.search(r"minigrad train: interrupted after (\d+) steps: saved the model and optimiser to (\S+) ", err)
    assert found and found.group(2) == str(out / "checkpoint.npz"), err
    assert "Resume with:\n  minigrad train " in err and f"--resume {out / 'checkpoint.npz'}\n" in err
    saved = minigrad.load(out / "checkpoint.npz")
    assert saved["optimizer"]["state"][0]["step"] == int(found.group(1))  # the write was not cut short


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_the_demos_training_saves_it_and_exits_130(tmp_path):
    """It printed "interrupted before any training step" and saved nothing."""
    pytest.importorskip("sklearn")
    status, err, out = interrupt(tmp_path, "demo", [("STEP 3", "none")])
    assert status == 130, err
    found = re.search(r"minigrad demo: interrupted after (\d+) steps: saved the model and optimiser to (\S+) "
                      r"\(0 of 30 epochs done; the weights also hold \d+ steps of epoch 1\)", err)
    assert found and found.group(2) == str(out / "checkpoint.npz") and "Traceback" not in err, err
    saved = minigrad.load(out / "checkpoint.npz")
    assert saved["optimizer"]["state"][0]["step"] == int(found.group(1)) and "scheduler" in saved


def test_demo_checks_its_out_folder_before_training(tmp_path, capsys, monkeypatch):
    """demo made --out with mkdir: "[Errno 17] File exists" for a file, and a read-only folder failed after training,
    naming a temporary file."""
    from minigrad.app import jobs

    monkeypatch.setattr(jobs, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
    monkeypatch.setattr(jobs.data, "load_digits", lambda *a, **k: pytest.fail("loaded the digits before --out"))
    (tmp_path / "afile").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "afile")]) == 2
    assert capsys.readouterr().err == f"minigrad demo: --out {tmp_path / 'afile'}: it is a file, not a folder; " \
                                      f"give a folder to write into\n"
    assert main(["demo", "--out", str(tmp_path / "afile" / "runs")]) == 2
    assert capsys.readouterr().err == f"minigrad demo: --out {tmp_path / 'afile' / 'runs'}: cannot write there " \
                                      f"(Not a directory)\n"

    def read_only(*args, **kwargs):  # what a read-only folder does (tests may run as root, who can write anywhere)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(jobs.tempfile, "TemporaryFile", read_only)
    assert main(["demo", "--out", str(tmp_path / "ro")]) == 2
    assert capsys.readouterr().err == f"minigrad demo: --out {tmp_path / 'ro'}: cannot write there " \
                                      f"(Permission denied)\n"


def test_resume_refuses_a_checkpoint_of_another_model_or_with_no_epochs_left(tmp_path, capsys):
    pytest.importorskip("sklearn")
    assert main(["train", "--epochs", "1", "--out", str(tmp_path)]) == 0
    ckpt = str(tmp_path / "checkpoint.npz")
    capsys.readouterr()
    assert main(["train", "--model", "resnet", "--epochs", "2", "--resume", ckpt, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"minigrad train: --resume {ckpt}: the checkpoint was trained with --model "
                                       f"digits_cnn, not resnet; pass --model digits_cnn\n")
    assert main(["train", "--epochs", "1", "--resume", ckpt, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "the checkpoint has 1 epochs done and --epochs 1 asks for no more; pass --epochs 6" in err


# --- minigrad explore: the explorer page of a script's graph --------------------------------------


def test_explore_writes_the_page_of_a_scripts_graph(tmp_path, capsys):
    script = tmp_path / "net.py"
    script.write_text(
        "import sys\n"
        "import numpy as np\n"
        "import minigrad as mg\n"
        "assert sys.argv[1:] == ['--seed', '3'], sys.argv  # the script's own arguments, not minigrad's\n"
        "model = mg.models.lenet5()\n"
        "loss = mg.nn.functional.cross_entropy(model(mg.Tensor(np.zeros((2, 1, 28, 28), np.float32))), np.array([1, 2]))\n"
        "loss.backward()\n"
    )
    page = tmp_path / "page.html"
    assert main(["explore", "--out", str(page), str(script), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {page} (13 views, 13 backprop steps of `loss`); open {page.as_uri()} in a browser" in out
    text = page.read_text(encoding="utf-8")
    assert "Backprop of `loss` from net.py" in text and "default-src 'none'" in text
    script.write_text("from minigrad import Value\nx = Value(1.0, 'x')\nf = x * 3\n")  # never backpropagated
    assert main(["explore", "--out", str(page), str(script)]) == 0
    assert "the page shows the forward pass; call f.backward()" in capsys.readouterr().out
    assert main(["explore", "--out", str(tmp_path / "no" / "page.html"), str(script)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["explore", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_explore_takes_its_options_before_or_after_the_script_and_passes_the_rest_on(tmp_path, capsys):
    script = tmp_path / "net.py"
    script.write_text(
        "import sys\n"
        "from minigrad import Value\n"
        "(open(sys.argv[0] + '.ran', 'w')).close()\n"
        "print('argv', sys.argv[1:])\n"
        "x = Value(2.0, 'x')\n"
        "y = x * x\n"
        "z = y + 1\n"
        "z.backward()\n"
    )
    ran = tmp_path / "net.py.ran"
    page = tmp_path / "page.html"
    for argv in (["explore", "--out", str(page), "--var", "y", str(script), "--seed", "3"],  # options first
                 ["explore", str(script), "--out", str(page), "--var", "y", "--seed", "3"],  # README's order
                 ["explore", str(script), "--seed", "3", "--out", str(page), "--var=y"]):
        assert main(argv) == 0, argv
        out = capsys.readouterr().out
        assert "argv ['--seed', '3']" in out and f"wrote {page} " in out and "of `y`" in out, argv
        assert "Backprop of `y` from net.py" in page.read_text(encoding="utf-8")
        page.unlink()
    assert main(["explore", str(script), "--out", str(page), "--", "--out", "pictures", "--var", "v"]) == 0
    assert "argv ['--out', 'pictures', '--var', 'v']" in capsys.readouterr().out  # after --: the script's
    assert "Backprop of `z` from net.py" in page.read_text(encoding="utf-8")  # no --var of explore's: the newest node
    page.unlink()

    assert main(["explore", str(script), "--out", str(page), "--var", "nope"]) == 2
    assert capsys.readouterr().err == f"minigrad explore: {script}: the script defines no module-level variable `nope`\n"
    assert not page.exists()
    ran.unlink()
    assert main(["explore", str(script), "--out", str(tmp_path / "no" / "page.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"minigrad explore: --out {tmp_path / 'no' / 'page.html'}: the folder") and "does not exist" in err
    assert not ran.exists()  # refused before the script ran
    assert main(["explore", str(script), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err and not ran.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.py"]


def test_explore_and_demo_help_say_what_they_write(capsys):
    with pytest.raises(SystemExit) as done:
        main(["explore", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: minigrad explore [-h] [--out PAGE] [--var NAME] SCRIPT [ARGS ...] [-- ARGS ...]")
    assert "--out and --var may come before or after SCRIPT" in text and "(default: explorer.html)" in text
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "explorer.html" in " ".join(capsys.readouterr().out.split())


def test_train_export_onnx_writes_the_trained_model_beside_the_checkpoint(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    assert main(["train", "--epochs", "1", "--out", str(tmp_path), "--export-onnx"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (f"wrote {tmp_path / 'checkpoint.npz'}, {tmp_path / 'learning_curves.png'} and "
                                    f"{tmp_path / 'model.onnx'}")
    model = minigrad.models.digits_cnn()
    model.load_state_dict(minigrad.load(tmp_path / "checkpoint.npz")["model"])
    model.eval()
    (_, _), (x_test, _) = minigrad.data.load_digits()
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": x_test[:7]})  # any batch size
    expected = model(minigrad.Tensor(x_test[:7])).data
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_export_onnx_without_the_onnx_package_fails_before_training_in_one_line(tmp_path, capsys, monkeypatch):
    from minigrad.app import jobs

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    monkeypatch.setattr(jobs, "fit", lambda *a, **k: pytest.fail("trained before finding onnx missing"))
    assert main(["train", "--export-onnx", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("minigrad train: --export-onnx needs the onnx package, which is not installed: "
                                       "pip install onnx (or pip install -e \".[onnx]\")\n")
