"""The HTML backprop stepper: one self-contained page, a frame per step, driven in a real Chromium."""
import html
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from minigrad import Tensor, Value, draw, lectures
from minigrad.viz import DotNotFound, render, stepper
from minigrad.viz.stepper import backprop_steps, count_steps, final_gradients

CHROMIUM = "/usr/bin/chromium"


def frames(page):
    return re.findall(r'<section class="frame" id="frame-(\d+)" data-index="\d+" data-counter="([^"]*)"', page)


def panels(page):
    return [html.unescape(p) for p in re.findall(r'<aside class="panel">(.*?)</aside>', page, re.S)]


# --- the page, read as text --------------------------------------------------------------------


def test_one_frame_per_step_plus_the_forward_pass(tmp_path):
    f, v = lectures.simple()
    out = stepper(f, tmp_path / "simple.html")
    assert Path(out) == tmp_path / "simple.html"
    page = Path(out).read_text(encoding="utf-8")
    assert [k for k, _ in frames(page)] == ["0", "1", "2"]
    assert [c for _, c in frames(page)] == ["forward pass · 0/2", "step 1/2", "step 2/2"]
    assert page.count("<svg") == 3
    assert re.search(r'<input id="slider" type="range" min="0" max="2"', page)
    assert 'id="prev"' in page and 'id="next"' in page and 'id="counter"' in page
    forward, mul, add = panels(page)
    assert "Forward pass" in forward and "f = -12.0" in forward
    assert "mul</span> gate" in mul and "dL/da = b × dL/dy" in mul
    assert "mul: upstream 1.0 × local (-4.0, 3.0) = downstream (-4.0, 3.0)" in mul
    assert "<td>q = 3.0</td><td>-4.0</td><td>-4.0</td>" in mul
    assert "add: upstream -4.0 × local (1.0, 1.0) = downstream (-4.0, -4.0)" in add
    # the frames' drawings are the graph at each moment: the last one knows x's gradient
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert "grad " not in html.unescape(svgs[0])
    assert html.unescape(svgs[1]).count("grad -4.0") == 1  # after the mul step: q's gradient only
    assert html.unescape(svgs[2]).count("grad -4.0") == 3
    assert v["x"].grad == 0.0  # a dry run


def test_the_page_is_self_contained(tmp_path):
    f, _ = lectures.neuron_gates()
    page = Path(stepper(f, tmp_path / "neuron.html")).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    assert "<script src" not in page and "<script>" in page
    assert "default-src 'none'" in page  # the page itself forbids any network access
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # each frame's SVG ids are prefixed: no clashes


def test_a_copy_step_has_its_own_frame(tmp_path):
    f, _ = lectures.fanout()
    page = Path(stepper(f, tmp_path / "fanout.html")).read_text(encoding="utf-8")
    copy = [p for p in panels(page) if "copy</span> gate" in p]
    assert len(copy) == 1
    assert "arriving from its consumers" in copy[0] and "1.0 + (-2.0)" in copy[0]


def test_small_tensor_graph_shows_shapes_values_and_norms(tmp_path):
    x = Tensor(np.array([[1.0, 2.0, -3.0]]), requires_grad=True, label="x")
    W = Tensor(np.arange(60.0).reshape(3, 20) / 60, requires_grad=True, label="W")
    loss = (x @ W).tanh().sum()
    loss.label = "loss"
    page = Path(stepper(loss, tmp_path / "t.html")).read_text(encoding="utf-8")
    assert len(frames(page)) == 4  # forward + sum, tanh, matmul
    text = "\n".join(panels(page))
    assert "x (1, 3) float64 = [[1.0, 2.0, -3.0]]" in text
    assert "W (3, 20) float64, ‖·‖=" in text
    assert "matmul</span> gate" in text and "(1, 20) ‖·‖=" in text
    assert x.grad is None  # nothing accumulated


def test_drawing_options_reach_every_frame(tmp_path):
    f, _ = lectures.simple()
    plain = Path(stepper(f, tmp_path / "a.html")).read_text(encoding="utf-8")
    colored = Path(stepper(f, tmp_path / "b.html", grad_colors=True)).read_text(encoding="utf-8")
    assert "gradient size" not in plain and colored.count("gradient size") == 2  # the legend, on each backprop frame
    with pytest.raises(TypeError):
        stepper(f, tmp_path / "c.html", no_such_option=1)
    assert not (tmp_path / "c.html").exists()


def test_a_non_scalar_root_takes_a_starting_gradient_and_a_leaf_has_no_steps(tmp_path):
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True, label="x")
    y = x * 3.0
    page = Path(stepper(y, tmp_path / "y.html", grad=np.array([1.0, 10.0]))).read_text(encoding="utf-8")
    assert "downstream ([3.0, 30.0], —)" in "\n".join(panels(page))
    with pytest.raises(RuntimeError, match="grad can be implied only for a one-element output"):
        stepper(y, tmp_path / "z.html")
    page = Path(stepper(Value(2.0, "a"), tmp_path / "leaf.html")).read_text(encoding="utf-8")
    assert [c for _, c in frames(page)] == ["forward pass · 0/0"]


def test_a_tensor_graph_whose_arrays_were_freed_is_a_clear_error(tmp_path):
    from minigrad.core.engine import recording

    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with recording(False):  # a backward that recorded nothing, and freed what the gates saved
        y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        stepper(y, tmp_path / "t.html")
    assert os.listdir(tmp_path) == []


def test_the_graph_is_left_as_it_was(tmp_path):
    f, v = lectures.simple()
    before = draw(f).source
    stepper(f, tmp_path / "a.html")
    assert draw(f).source == before  # still the forward pass only
    f.backward()
    after = draw(f).source
    page = Path(stepper(f, tmp_path / "b.html")).read_text(encoding="utf-8")
    assert draw(f).source == after and v["x"].grad == -4.0
    assert "grad " not in html.unescape(re.findall(r"<svg.*?</svg>", page, re.S)[0])  # frame 0: forward pass


def test_steps_are_counted_without_running_backprop():
    for build in lectures.EXAMPLES.values():
        f, _ = build()
        assert count_steps(f) == len(list(f.backward_steps()))
    steps = backprop_steps(lectures.simple()[0])
    assert [s.gate for s in steps] == ["mul", "add"]
    assert [(leaf.label, g) for leaf, g in final_gradients(steps)] == [("x", -4.0), ("y", -4.0), ("z", 3.0)]


# --- bad input: clear errors, nothing written ---------------------------------------------------


def test_a_huge_graph_is_refused_with_its_size_before_anything_is_drawn(tmp_path, monkeypatch):
    x = Value(1.0, "x")
    y = x
    for _ in range(100_000):
        y = y + 1.0
    monkeypatch.setattr(render.Diagram, "pipe", lambda *a, **k: pytest.fail("drew something"))
    with pytest.raises(ValueError, match=r"has 100,000 steps, more than max_steps=400.*subgraph"):
        stepper(y, tmp_path / "huge.html")
    assert os.listdir(tmp_path) == []


def test_max_steps_can_be_raised(tmp_path):
    y = Value(1.0)
    for _ in range(5):
        y = y * 2.0
    with pytest.raises(ValueError, match="has 5 steps, more than max_steps=4"):
        stepper(y, tmp_path / "a.html", max_steps=4)
    assert len(frames(Path(stepper(y, tmp_path / "a.html", max_steps=5)).read_text(encoding="utf-8"))) == 6


def test_a_missing_folder_is_named_and_nothing_is_created(tmp_path):
    f, _ = lectures.simple()
    with pytest.raises(FileNotFoundError, match=r"folder '.*no/such' does not exist"):
        stepper(f, tmp_path / "no" / "such" / "page.html")
    assert os.listdir(tmp_path) == []


def test_without_a_dot_program_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "find_dot", lambda: None)
    f, _ = lectures.simple()
    with pytest.raises(DotNotFound, match="pip install graphviz-pure"):
        stepper(f, tmp_path / "page.html")
    assert os.listdir(tmp_path) == []


def test_a_failure_halfway_leaves_no_half_written_file(tmp_path, monkeypatch):
    f, _ = lectures.simple()
    (tmp_path / "page.html").write_text("the old page")
    calls = []
    real = render.Diagram.pipe

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("dot crashed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(render.Diagram, "pipe", failing)
    with pytest.raises(RuntimeError, match="dot crashed"):
        stepper(f, tmp_path / "page.html")
    assert os.listdir(tmp_path) == ["page.html"] and (tmp_path / "page.html").read_text() == "the old page"


def test_not_a_node_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="stepper: expected a minigrad Value or Tensor"):
        stepper(3.0, tmp_path / "a.html")


# --- the page in a real headless Chromium --------------------------------------------------------


@contextmanager
def _chromium():
    """Headless Debian Chromium driven by Playwright, closed afterwards; the test is skipped when either is
    missing (CI installs both and sets MINIGRAD_REQUIRE_ALL, which turns the skip into a failure)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[test]')"
    if reason is None and not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason is not None:
        pytest.skip(reason)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


def test_the_page_steps_in_chromium(tmp_path):
    f, _ = lectures.fanout()  # 3 steps (add, mul, copy): 4 frames
    path = Path(stepper(f, tmp_path / "fanout.html"))
    errors, requests = [], []
    with _chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())

        def state():
            shown = page.locator("section.frame:visible")
            assert shown.count() == 1
            assert shown.locator("svg").is_visible()
            return int(shown.get_attribute("data-index")), page.inner_text("#counter")

        assert state() == (0, "forward pass · 0/3")
        assert page.is_disabled("#prev")
        page.keyboard.press("ArrowRight")
        assert state() == (1, "step 1/3")
        assert "add" in page.locator("section.frame:visible aside").inner_text()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        assert state() == (1, "step 1/3")
        page.click("#next")
        page.click("#next")
        assert state() == (3, "step 3/3")
        assert page.is_disabled("#next")
        page.keyboard.press("ArrowRight")  # past the end: stays
        assert state()[0] == 3
        page.click("#prev")
        assert state() == (2, "step 2/3")
        page.fill("#slider", "0")
        assert state() == (0, "forward pass · 0/3")
        page.keyboard.press("End")
        assert state()[0] == 3
        page.focus("#slider")  # on the slider, the arrow keys move the slider itself: one step, not two
        page.keyboard.press("ArrowLeft")
        assert state()[0] == 2
        page.check("#fit")  # scale the drawing to the window
        assert "fit" in page.get_attribute("body", "class")
    assert errors == []
    assert requests and all(url.startswith("file:") for url in requests)


def test_the_page_follows_the_current_gate_in_a_wide_drawing(tmp_path):
    f, _ = lectures.neuron_gates()  # wider than a small window
    path = Path(stepper(f, tmp_path / "neuron.html"))
    with _chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 600})
        page.goto(path.as_uri())
        for _ in range(3):  # the exp gate, far from where the drawing starts
            page.keyboard.press("ArrowRight")
            gate = page.locator('section.frame:visible svg [fill="orange"]').first
            box = gate.bounding_box()
            assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 900, box


def test_a_tensor_graph_steps_in_chromium(tmp_path):
    x = Tensor(np.arange(6.0).reshape(2, 3) - 2.5, requires_grad=True, label="x")
    w = Tensor(np.ones((3, 2)), requires_grad=True, label="w")
    loss = (x @ w).relu().sum()  # 3 steps: sum, relu, matmul
    path = Path(stepper(loss, tmp_path / "tensor.html"))
    errors = []
    with _chromium() as browser:
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        assert page.inner_text("#counter") == "forward pass · 0/3"
        seen = []
        for _ in range(3):
            page.keyboard.press("ArrowRight")
            frame = page.locator("section.frame:visible")
            assert frame.locator("svg").is_visible()
            seen.append(frame.locator("aside").inner_text())
        assert page.inner_text("#counter") == "step 3/3"
        assert [g for text in seen for g in ("sum", "relu", "matmul") if g in text.split("\n")[0]] == ["sum", "relu", "matmul"]
        assert "(2, 3)" in page.locator("section.frame:visible svg").text_content()  # x's shape on its node
    assert errors == []
