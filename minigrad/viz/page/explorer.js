/* The explorer page (minigrad/viz/explorer.py writes it): one SVG per module view, one JSON blob of steps,
   nodes and tensors. Nothing here computes a gradient: every number is read from the blob, which holds
   what backward recorded. State: the view shown, and k, the last backprop step taken (-1: the forward pass). */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var stage = $("stage"), canvas = $("canvas"), panel = $("panel"), inspector = $("inspector");
  var slider = $("slider"), counter = $("counter"), colors = $("colors");
  var N = D.steps.length, byPath = {}, zoom = {}, state = {view: 0, k: -1, picked: null};
  var READABLE = 0.84;  // the smallest zoom fit goes to: the drawings' 9 pt labels stay 10 px tall
  D.views.forEach(function (v, i) { byPath[v.path] = i; });

  // --- words and numbers (as the drawings and str(step) write them) ---
  function h(text) {
    return String(text).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; });
  }
  function fmt(x) {  // Python's fmt_number: 6 significant digits, -4.0 for whole numbers
    if (x === null || x === undefined) return "—";
    if (typeof x === "string") return x;
    if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toFixed(1);
    var parts = x.toExponential(5).split("e"), exp = parseInt(parts[1], 10);
    var strip = function (s) { return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, ""); };
    if (exp < -4 || exp >= 6) return strip(parts[0]) + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    return strip(x.toFixed(5 - exp));
  }
  function shape(s) { return s === null || s === undefined ? "" : "(" + s.join(", ") + (s.length === 1 ? ",)" : ")"); }
  function node(id) { return D.nodes[String(id)]; }
  function named(x) {  // a node's name and shape, the shape once (names outside modules say it: relu → (8, 3))
    var s = shape(x.shape);
    return h(x.name) + (s && x.name.indexOf(s) < 0 ? " " + h(s) : "");
  }
  function tensorLine(ref, color, title) {  // shape, norm, min/max/mean, or the values; a button for the picture
    if (ref === null || ref === undefined) return '<span class="tensor">—</span>';
    if (Array.isArray(ref)) return ref.map(function (r) { return tensorLine(r, color, title); }).join(" + ");
    var t = D.tensors[ref], cls = color === "value" ? "value-norm" : "norm", out = [];
    if (t.shape.length) out.push(h(shape(t.shape)) + " " + h(t.dtype));
    var few = t.values && t.values.length <= 6;
    if (few) out.push("= " + (t.shape.length ? "[" + t.values.map(fmt).join(", ") + "]" : fmt(t.values[0])));
    if (t.norm !== undefined && t.shape.length) out.push('‖·‖ <span class="' + cls + '">' + fmt(t.norm) + "</span>");
    if (t.min !== undefined && !few) out.push("min " + fmt(t.min) + " · max " + fmt(t.max) + (t.mean !== undefined ? " · mean " + fmt(t.mean) : ""));
    if (t.freed) out.push("values freed");
    if (t.nonfinite) out.push(t.nonfinite + " nan/inf");
    var look = t.freed || few ? "" : '<button class="look" type="button" data-tensor="' + ref + '" data-title="' +
      h(title || "values") + '">look</button>';
    return '<span class="tensor">' + out.join(" · ") + "</span>" + look;
  }

  // --- where steps fall in a view: its units (a box's whole backward, a gate, or a run elsewhere) ---
  function view() { return D.views[state.view]; }
  function unitAt(k) {
    var u = view().units;
    for (var i = 0; i < u.length; i++) if (u[i][0] <= k && k <= u[i][1]) return i;
    return -1;
  }
  function go(k) {
    state.k = Math.max(-1, Math.min(N - 1, k));
    show(true);
  }
  function next() {  // the end of the next unit; from inside a run elsewhere, straight to this view's next step
    var u = view().units;
    for (var i = 0; i < u.length; i++) {
      if (u[i][1] <= state.k) continue;
      var skip = u[i][2] === null && u[i][0] <= state.k && i + 1 < u.length;
      return go(u[skip ? i + 1 : i][1]);
    }
  }
  function prev() { var u = view().units, to = -1; for (var i = 0; i < u.length; i++) if (u[i][1] < state.k) to = u[i][1]; go(to); }

  function svgEl(id) { return document.getElementById("v" + state.view + "-" + id); }
  function show(follow) {
    var v = view(), k = state.k, u = unitAt(k), banding = colors.checked, id;
    for (id in v.edges) {
      var e = svgEl(id), done = v.edges[id][0] <= k, band = v.edges[id][1];
      if (!e) continue;
      e.classList.toggle("done", done);
      e.classList.toggle("banded", done && banding && band !== null);
      if (band !== null) e.style.setProperty("--band", D.bands[band][0]);
    }
    for (id in v.els) {
      var x = v.els[id], g = svgEl(id), known = x[2] !== null && x[2] !== undefined && x[2] <= k;
      if (!g) continue;
      g.classList.toggle("banded", known && banding && x[3] !== null);
      if (x[3] !== null) g.style.setProperty("--band", D.bands[x[3]][0]);
      g.classList.remove("current");
    }
    var current = u >= 0 && v.units[u][2] ? svgEl(v.units[u][2]) : null;
    if (current) current.classList.add("current");
    slider.max = String(v.units.length);
    slider.value = String(u + 1);
    counter.textContent = k < 0 ? "forward pass · 0/" + v.units.length + " steps here" :
      "step " + (u + 1) + "/" + v.units.length + " here · backprop step " + (k + 1) + "/" + N;
    $("prev").disabled = k < 0;
    $("next").disabled = !v.units.length || k >= v.units[v.units.length - 1][1];
    panel.innerHTML = k < 0 ? forwardPanel() : unitPanel(v.units[u]);
    if (follow && current) reveal(current);
    if (state.picked) inspect(state.picked, true);
  }

  // --- the side panel ---
  function forwardPanel() {
    var v = view(), root = node(D.root);
    var s = "<h2>Forward pass</h2><p>Values flow from the inputs to <b>" + h(root.name) + "</b> " +
      tensorLine(root.value, "value") + ".</p>";
    if (!D.recorded) return s + '<p class="hint">' + h(D.note) + "</p>";
    return s + "<p>Backprop takes <b>" + N + "</b> steps, newest gate first; " +
      (v.path ? "in this module's view they make <b>" + v.units.length + "</b>" : "at this top level they make <b>" + v.units.length + "</b>") +
      " (a box's whole backward is one). At each gate: <b>downstream = local × upstream</b> for every input.</p>" +
      '<p class="hint">Next (→) starts backprop · click a box to open it · click a node or an edge to look at its values.</p>';
  }
  function unitPanel(unit) {
    var first = unit[0], last = unit[1], el = unit[2], v = view();
    if (el === null) return elsewherePanel(first, last);
    var x = v.els[el];
    if (x[0] === "box") return boxPanel(x, first, last);
    var s = "";
    for (var k = first; k <= last; k++) s += stepPanel(k);
    return s;
  }
  function stepPanel(k) {
    var st = D.steps[k], out = node(st.n), s = "<h2>Step " + (k + 1) + " of " + N + ': <span class="gate">' + h(st.g) + "</span> gate</h2>";
    s += '<p class="where">' + (st.k === "gate" ? "makes " : "") + h(out.name) + (out.owner && out.name.indexOf(" in ") < 0 ? " · in " + h(out.owner) : "") + "</p>";
    if (st.k === "copy") {
      return s + '<p class="formula">' + h(st.f) + "</p><p>" + h(out.name) + " is used by " + st.up.length +
        " gates; its gradient is the sum of what they sent:</p>" + st.up.map(function (r) { return "<div>+ " + tensorLine(r) + "</div>"; }).join("") +
        '<div class="eq">= downstream</div>' + tensorLine(st.ins[0][2]);
    }
    if (st.k === "hook") {
      return s + '<p class="formula">' + h(st.f) + "</p><h3>arriving (upstream)</h3>" + tensorLine(st.up) +
        "<h3>the hook's result, passed on</h3>" + tensorLine(st.ins[0][2]);
    }
    s += '<p class="formula">' + h(out.formula) + "</p>";
    s += '<div class="eq">downstream = local × upstream</div><h3>upstream: dL/d(' + h(out.name) + ")</h3>" +
      tensorLine(st.up, "grad", "upstream: the gradient of " + out.name);
    st.ins.forEach(function (input, i) {
      var x = node(input[0]);
      s += '<div class="input"><h3>input ' + i + ": " + named(x) + "</h3>" +
        '<p class="rule">' + h(out.rules[i] || "") + "</p>";
      if (input[2] === null) { s += '<p class="hint">no gradient: it does not require one</p></div>'; return; }
      if (typeof input[1] !== "string") s += "<div>local: " + tensorLine(input[1], "value", "local gradient of " + st.g + " for " + x.name) + "</div>";
      else if (input[1] !== out.rules[i]) s += '<div>local: <span class="tensor">' + h(input[1]) + "</span></div>";
      s += "<div>downstream: " + tensorLine(input[2], "grad", "downstream: what " + st.g + " sends to " + x.name) + "</div></div>";
    });
    return s;
  }
  function boxPanel(x, first, last) {
    var info = D.views[byPath[x[1]]], count = x[4].length;
    var n = last - first + 1;
    var s = "<h2>" + h(info ? info.title : x[1]) + "</h2>" + '<p class="where">' + (count > 1 ? count + " identical blocks, folded: " +
      h(x[4][0] + " – " + x[4][count - 1]) + " · " : "") + "its whole backward: " + (n === 1 ? "step " + (first + 1) :
      "steps " + (first + 1) + "–" + (last + 1)) + " of " + N + "</p>";
    if (n === 1) return s + stepPanel(first).replace(/^<h2>.*?<\/h2>/, "");
    s += "<p>" + n + " steps inside it, listed below (click one to open the module there).</p>" +
      "<h3>gradient arriving at its output</h3>" + tensorLine(D.steps[first].up);
    s += '<table class="gates"><thead><tr><th>step</th><th>gate</th><th>in</th><th>upstream → downstream ‖·‖</th></tr></thead><tbody>';
    for (var k = first; k <= last; k++) {
      var st = D.steps[k], out = node(st.n), downs = st.ins.map(function (i) { var t = D.tensors[i[2]]; return t ? fmt(t.norm) : "—"; });
      var up = Array.isArray(st.up) ? st.up.map(function (r) { return fmt(D.tensors[r].norm); }).join(" + ") : (st.up === null ? "—" : fmt(D.tensors[st.up].norm));
      s += '<tr class="go" data-step="' + k + '"><td class="num">' + (k + 1) + "</td><td>" + h(st.g) + "</td><td>" + h(out.owner || "—") +
        '</td><td class="num">' + up + " → " + downs.join(", ") + "</td></tr>";
    }
    return s + "</tbody></table>";
  }
  function elsewherePanel(first, last) {
    var where = {}, list = [];
    for (var k = first; k <= last; k++) { var o = node(D.steps[k].n).owner || "the top level"; if (!where[o]) { where[o] = 1; list.push(o); } }
    return "<h2>Steps " + (first + 1) + "–" + (last + 1) + " of " + N + ": elsewhere</h2><p>Backprop is outside " +
      h(view().path || "this view") + " here, in " + list.slice(0, 8).map(h).join(", ") + (list.length > 8 ? ", …" : "") +
      '.</p><p class="hint">Next (→) moves to the next step of this view; the breadcrumb goes up to see where.</p>';
  }

  // --- the inspector: a node or an edge, its values as a picture ---
  function inspect(pick, quiet) {
    state.picked = pick;
    var s = "", k = state.k;
    if (pick.node !== undefined) {
      var n = node(pick.node);
      s = "<h2>" + h(n.name) + "</h2>" + '<p class="where">' + h(shape(n.shape)) + " " + h(n.dtype) +
        (n.gate ? " · made by " + h(n.gate) + (n.owner ? " in " + h(n.owner) : "") : n.param ? " · a parameter" : " · an input") + "</p>";
      if (n.formula) s += '<p class="formula">' + h(n.formula) + "</p>";
      if (!D.recorded) s += '<p class="hint">' + h(D.note) + "</p>";
      else if (n.grad === null) s += '<p class="hint">no gradient reaches it</p>';
      else if (n.ready !== null && n.ready > k) s += "<h3>gradient</h3><p class=\"hint\">arrives at backprop step " + (n.ready + 1) + " (now: " + (k + 1) + ")</p>";
      else {
        s += "<h3>gradient" + (n.hook ? " (the hook's result)" : "") + "</h3>" + picture(n.grad, "grad");
        if (n.hook) s += "<h3>before its hook</h3>" + picture(n.hook[0], "grad");
      }
      s += "<h3>value</h3>";
      if (n.changed) s += '<p class="hint changed">' + (n.changed[0] === null ?
        "may have changed in place since the forward pass (now at version " + n.changed[1] + ", and other tensors of this graph did change)" :
        "changed in place since the forward pass (version " + n.changed[0] + " → " + n.changed[1] + ")") +
        ": these are its values now, not necessarily the ones the forward used</p>";
      s += picture(n.value, "value");
    } else if (pick.edge !== undefined) {
      var e = view().edges[pick.edge];
      if (e[3] !== undefined) return inspect({node: e[3]}, quiet);  // into a copy gate: the node's own gradient
      s = "<h2>Gradient on an edge</h2>";
      e[2].forEach(function (pair) {
        var gate = node(pair[0]), st = D.steps[gate.step], input = node(gate.inputs[pair[1]]);
        s += '<p class="where">sent by ' + h(gate.name) + " to " + h(input.name) + " at backprop step " + (gate.step + 1) + "</p>" +
          '<p class="rule">' + h(gate.rules[pair[1]]) + "</p>" +
          (gate.step > k ? '<p class="hint">not sent yet (now: step ' + (k + 1) + ")</p>" : picture(st.ins[pair[1]][2], "grad"));
      });
    } else if (pick.tensor !== undefined) {
      s = "<h2>" + h(pick.title || "tensor") + "</h2>" + picture(pick.tensor, "grad");
    }
    var top = inspector.scrollTop;
    inspector.hidden = false;  // above the panel, beside the drawing: it never covers it
    inspector.innerHTML = '<div class="tools"><button type="button" id="widen" title="a wider side panel, for bigger pictures">' +
      (wide() ? "⇥" : "⇤") + '</button><button type="button" id="close-inspector" title="close (Escape)">×</button></div>' + s;
    drawPictures();
    inspector.scrollTop = quiet ? top : 0;
  }
  function drawPictures() {  // each heat map and histogram as wide as the panel lets it be
    var room = inspector.clientWidth - 34;
    inspector.querySelectorAll("canvas.heat").forEach(function (cv) { pictures.drawHeat(cv, D.tensors[Number(cv.dataset.tensor)], fmt, room); });
    inspector.querySelectorAll("canvas.hist").forEach(function (cv) { pictures.drawHist(cv, D.tensors[Number(cv.dataset.tensor)], room); });
    pictured = inspector.clientWidth;
  }
  var pictured = 0;
  new ResizeObserver(function () { if (!inspector.hidden && inspector.clientWidth !== pictured) drawPictures(); }).observe(inspector);
  function picture(ref, color) {
    if (ref === null || ref === undefined) return "<p>—</p>";
    var t = D.tensors[ref], s = "<div>" + tensorLine(ref, color).replace(/<button.*<\/button>/, "") + "</div>";
    if (t.freed) return s + '<p class="hint">Only its shape, norm, min and max were kept: a plain backward() frees inner gradients as it goes; backward(retain_graph=True) keeps the values.</p>';
    if (t.values) return s + '<p class="numbers">[' + t.values.map(fmt).join(", ") + "]</p>";
    if (t.heat) {
      s += '<canvas class="heat" data-tensor="' + ref + '"></canvas><div class="hover"></div><p class="caption">' +
        h(describeHeat(t)) + "</p>";
    }
    if (t.hist) s += '<canvas class="hist" height="110" data-tensor="' + ref + '"></canvas><p class="caption">histogram of all ' +
      t.shape.reduce(function (a, b) { return a * b; }, 1).toLocaleString("en") + " values, " + fmt(t.hist.lo) + " … " + fmt(t.hist.hi) + "</p>";
    return s;
  }
  function describeHeat(t) {
    var m = t.heat, what = m.grid[0] * m.grid[1] === 1 ? m.tile[0] + " × " + m.tile[1] : m.tiles + " tiles of " + m.tile[0] + " × " + m.tile[1] +
      (m.filters ? " (each filter a row of tiles, one per input channel; the rows wrap to fill the width)" : "");
    return what + (m.note ? " · " + m.note : "") + " · blue < 0 < red, white 0, full colour ±" + fmt(m.scale) + " (hover for values, ≈ 3 digits)";
  }
  // --- views, breadcrumb, zoom and pan ---
  function open(i, k) {
    document.querySelectorAll(".view").forEach(function (el) { el.hidden = true; });
    state.view = i;
    $("view-" + i).hidden = false;
    crumbs();
    if (!zoom[i]) place(i);
    transform();
    state.picked = null;
    inspector.hidden = true;
    go(k === undefined ? state.k : k);
  }
  function closeInspector() {
    inspector.hidden = true; state.picked = null; pictured = 0;
    document.querySelectorAll(".picked").forEach(function (el) { el.classList.remove("picked"); });
  }
  function crumbs() {
    var v = view(), parts = v.path ? v.path.split(".") : [], s = '<button type="button" data-view="">model</button>';
    parts.forEach(function (p, i) {
      var path = parts.slice(0, i + 1).join(".");
      s += '<span class="sep">›</span>' + (i === parts.length - 1 ? '<span class="here">' + h(p) + "</span>" :
        '<button type="button" data-view="' + h(path) + '">' + h(p) + "</button>");
    });
    s += '<span class="title">' + h(v.title) + (v.params ? " · " + h(v.params) : "") + "</span>";
    var parent = D.views[byPath[v.path.indexOf(".") < 0 ? "" : v.path.slice(0, v.path.lastIndexOf("."))]];
    if (v.path && parent) for (var id in parent.els) {
      var m = parent.els[id][4];
      if (m && m.length > 1 && m.indexOf(v.path) >= 0) {
        s += '<span class="siblings">folded with: ' + m.map(function (p) {
          return p === v.path ? "<b>" + h(p) + "</b>" : '<button type="button" data-view="' + h(p) + '">' + h(p) + "</button>";
        }).join(" ") + "</span>";
      }
    }
    $("crumbs").innerHTML = s;
  }
  function svgSize() { var svg = $("view-" + state.view).querySelector("svg"); return {w: svg.width.baseVal.value, h: svg.height.baseVal.value}; }
  function place(i) {  // the whole view if it fits at a readable zoom (≤ 100 %), else readable, in parts
    var z = zoom[i] = {s: 1, x: 8, y: 8}, size = svgSize(), W = stage.clientWidth, H = stage.clientHeight;
    z.s = Math.min(1, (W - 16) / size.w, (H - 16) / size.h);
    if (z.s < READABLE) z.s = Math.max(READABLE, Math.min(1, (W - 16) / size.w));
    z.x = Math.max(8, (W - size.w * z.s) / 2);
    z.y = Math.max(8, (H - size.h * z.s) / 2);
  }
  function transform() {
    var z = zoom[state.view];
    canvas.style.transform = "translate(" + z.x + "px," + z.y + "px) scale(" + z.s + ")";
    parts();
  }
  function partHeight() { return Math.max(100, stage.clientHeight - 48); }  // a part overlaps the next by 48 px
  function parts() {  // a view taller than the window is read in parts, as pages: which one is in sight
    var z = zoom[state.view], tall = svgSize().h * z.s + 16, H = stage.clientHeight;
    $("parts").hidden = tall <= H;
    if (tall <= H) return;
    var n = Math.ceil((tall - H) / partHeight()) + 1, k = Math.min(n, Math.max(1, Math.round((8 - z.y) / partHeight()) + 1));
    $("part").textContent = "part " + k + " of " + n;
    $("part-up").disabled = z.y >= 8;
    $("part-down").disabled = z.y <= H - tall + 8;
  }
  function turn(by) {  // the part above (-1) or below (+1)
    var z = zoom[state.view], tall = svgSize().h * z.s + 16;
    z.y = Math.min(8, Math.max(stage.clientHeight - tall + 8, z.y - by * partHeight()));
    transform();
  }
  function zoomBy(f, px, py) {
    var z = zoom[state.view], s = Math.max(0.05, Math.min(4, z.s * f));
    if (px === undefined) { px = stage.clientWidth / 2; py = stage.clientHeight / 2; }
    z.x = px - (px - z.x) * s / z.s; z.y = py - (py - z.y) * s / z.s; z.s = s;
    transform();
  }
  function fit() {  // as place does: whole when that is readable, else readable and in parts, the current step in sight
    place(state.view);
    transform();
    var current = document.querySelector("#view-" + state.view + " g.current");
    if (current && !$("parts").hidden) reveal(current);
  }
  function reveal(el) {  // pan so that the element is in sight
    var r = el.getBoundingClientRect(), S = stage.getBoundingClientRect(), z = zoom[state.view];
    if (r.left >= S.left && r.right <= S.right && r.top >= S.top && r.bottom <= S.bottom) return;
    z.x += S.left + S.width / 2 - (r.left + r.width / 2);
    z.y += S.top + S.height / 2 - (r.top + r.height / 2);
    transform();
  }
  var drag = null;
  stage.addEventListener("wheel", function (e) {
    e.preventDefault();
    var S = stage.getBoundingClientRect();
    zoomBy(Math.exp(-e.deltaY * 0.0015), e.clientX - S.left, e.clientY - S.top);
  }, {passive: false});
  stage.addEventListener("pointerdown", function (e) { if (e.button === 0) drag = {x: e.clientX, y: e.clientY, moved: false}; });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true; stage.classList.add("dragging");
    var z = zoom[state.view]; z.x += dx; z.y += dy; drag.x = e.clientX; drag.y = e.clientY;
    transform();
  });
  window.addEventListener("pointerup", function () { stage.classList.remove("dragging"); setTimeout(function () { drag = null; }, 0); });

  // --- clicks and keys ---
  stage.addEventListener("click", function (e) {
    if (drag && drag.moved) return;
    var g = e.target.closest("g.node, g.edge");
    if (!g) return;
    var id = g.id.slice(("v" + state.view + "-").length), v = view();
    document.querySelectorAll(".picked").forEach(function (el) { el.classList.remove("picked"); });
    if (v.edges[id]) { g.classList.add("picked"); return inspect({edge: id}); }
    var x = v.els[id];
    if (!x) return;
    if (x[0] === "box") return open(byPath[x[1]]);
    if (x[0] === "context") { var n = node(x[1]); return open(byPath[n.owner] !== undefined ? byPath[n.owner] : 0); }
    g.classList.add("picked");
    inspect({node: x[1]});
  });
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-view], [data-tensor], tr[data-step], #close-inspector, #widen");
    if (!t || t.tagName === "CANVAS") return;
    if (t.id === "close-inspector") return closeInspector();
    if (t.id === "widen") {
      side.style.width = wide() ? "" : Math.round(0.55 * window.innerWidth) + "px";
      t.textContent = wide() ? "⇥" : "⇤";
      return keepInSight();
    }
    if (t.dataset.view !== undefined) return open(byPath[t.dataset.view]);
    if (t.dataset.tensor !== undefined) return inspect({tensor: Number(t.dataset.tensor), title: t.dataset.title});
    var k = Number(t.dataset.step), owner = node(D.steps[k].n).owner;
    open(byPath[owner] !== undefined ? byPath[owner] : 0, k);
  });
  $("prev").addEventListener("click", prev);
  $("next").addEventListener("click", next);
  slider.addEventListener("input", function () {
    var u = Number(slider.value);
    go(u === 0 ? -1 : view().units[u - 1][1]);
  });
  $("zoom-in").addEventListener("click", function () { zoomBy(1.25); });
  $("zoom-out").addEventListener("click", function () { zoomBy(0.8); });
  $("zoom-reset").addEventListener("click", function () { zoomBy(1 / zoom[state.view].s); });
  $("fit").addEventListener("click", fit);
  $("part-up").addEventListener("click", function () { turn(-1); });
  $("part-down").addEventListener("click", function () { turn(1); });
  $("note").addEventListener("click", function () { $("note").classList.add("open"); });
  function wide() { return side.getBoundingClientRect().width > 0.45 * window.innerWidth; }
  function keepInSight() {  // the drawing's room changed: placed again, the picked element (else the current one) in sight
    var el = document.querySelector("#view-" + state.view + " .picked") || document.querySelector("#view-" + state.view + " g.current");
    for (var i in zoom) if (Number(i) !== state.view) delete zoom[i];  // the other views are placed again when opened
    place(state.view);
    transform();
    if (el) reveal(el);
  }
  window.addEventListener("resize", keepInSight);
  var side = $("side"), divider = $("divider"), sizing = null;
  divider.addEventListener("pointerdown", function (e) { sizing = true; divider.classList.add("dragging"); divider.setPointerCapture(e.pointerId); });
  divider.addEventListener("pointermove", function (e) {
    if (sizing) side.style.width = Math.max(288, Math.min(window.innerWidth - 320, window.innerWidth - e.clientX - 3)) + "px";
  });
  divider.addEventListener("pointerup", function () { sizing = null; divider.classList.remove("dragging"); keepInSight(); });
  colors.addEventListener("change", function () { $("legend").hidden = !colors.checked; show(false); });
  document.addEventListener("keydown", function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) return;  // the slider moves itself
    var act = {ArrowRight: next, ArrowLeft: prev, Home: function () { go(-1); }, End: function () { go(N - 1); },
      "+": function () { zoomBy(1.25); }, "=": function () { zoomBy(1.25); }, "-": function () { zoomBy(0.8); },
      "0": function () { zoomBy(1 / zoom[state.view].s); }, f: fit,
      PageUp: function () { turn(-1); }, PageDown: function () { turn(1); },
      Escape: function () {  // close the picture, else go up one level
        if (!inspector.hidden) return closeInspector();
        var p = view().path; if (p) open(byPath[p.indexOf(".") < 0 ? "" : p.slice(0, p.lastIndexOf("."))]);
      }}[e.key];
    if (!act) return;
    e.preventDefault();
    act();
  });

  $("legend").innerHTML = D.bands.map(function (b) { return '<span style="background:' + b[0] + '">' + h(b[1]) + "</span>"; }).join("");
  if (D.note) { $("note").textContent = D.note; $("note").hidden = false; }
  if (!D.recorded) colors.disabled = true;
  open(0, -1);
})();
