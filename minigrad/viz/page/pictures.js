/* Pictures of a tensor for the explorer page (explorer.js uses them): a heat map of the 2-D slice the page
   carries (tiles, float16 of value/scale; viz/pictures.py writes it), laid out to the panel's width with at
   least 4 px a value, and a histogram's bars. */
var pictures = (function () {
  "use strict";
  function halfs(b64) {  // float16 little-endian -> numbers
    var bin = atob(b64), n = bin.length >> 1, out = new Float32Array(n);
    for (var i = 0; i < n; i++) {
      var v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8), s = v & 0x8000 ? -1 : 1, e = (v >> 10) & 31, f = v & 1023;
      out[i] = e === 0 ? s * f * Math.pow(2, -24) : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * Math.pow(2, e - 15);
    }
    return out;
  }
  function color(v) {  // diverging: blue (-1) - white (0) - red (+1), as GRAD_BANDS' ends
    if (isNaN(v)) return [255, 0, 255];
    v = Math.max(-1, Math.min(1, v));
    var to = v < 0 ? [59, 76, 192] : [180, 4, 38], a = Math.abs(v);
    return [247 + (to[0] - 247) * a, 247 + (to[1] - 247) * a, 247 + (to[2] - 247) * a];
  }
  var MIN_CELL = 4, MAX_CELL = 24, MAX_HEIGHT = 560;
  function arrange(m, room) {  // the biggest squares (≥ MIN_CELL px a value) whose lines of tiles fit the width and height
    var th = m.tile[0], tw = m.tile[1], tiled = m.grid[0] * m.grid[1] > 1;
    var per = m.filters ? m.grid[1] : 1, units = m.filters ? Math.ceil(m.tiles / per) : m.tiles;  // a filter's row of tiles, or a tile
    for (var cell = MAX_CELL; ; cell--) {
      var gap = tiled ? (cell > 3 ? 2 : 1) : 0, apart = m.filters ? 4 * gap + 2 : gap, unit = per * (tw * cell + gap) - gap;
      var across = Math.max(1, Math.min(units, Math.floor((room + apart) / (unit + apart)))), lines = Math.ceil(units / across);
      var W = across * (unit + apart) - apart, H = lines * (th * cell + gap) - gap;
      if (cell === MIN_CELL || (W <= room && H <= MAX_HEIGHT)) {
        return {cell: cell, gap: gap, apart: apart, unit: unit, per: per, units: units, across: across, W: W, H: H, th: th, tw: tw};
      }
    }
  }
  function drawHeat(cv, t, fmt, room) {  // squares of `cell` px per value, tiles 1-2 px apart, wrapped to the room there is
    var m = t.heat, vals = halfs(m.data), L = arrange(m, room || 400), cell = L.cell, th = L.th, tw = L.tw;
    cv.width = L.W; cv.height = L.H;
    var cx = cv.getContext("2d"), img = cx.createImageData(L.W, L.H);
    for (var k = 0; k < m.tiles; k++) {
      var u = Math.floor(k / L.per), x0 = (u % L.across) * (L.unit + L.apart) + (k % L.per) * (tw * cell + L.gap);
      var y0 = Math.floor(u / L.across) * (th * cell + L.gap);
      for (var y = 0; y < th; y++) for (var x = 0; x < tw; x++) {
        var rgb = color(vals[(k * th + y) * tw + x]);
        for (var dy = 0; dy < cell; dy++) for (var dx = 0; dx < cell; dx++) {
          var p = 4 * ((y0 + y * cell + dy) * L.W + x0 + x * cell + dx);
          img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2]; img.data[p + 3] = 255;
        }
      }
    }
    cx.putImageData(img, 0, 0);
    cv.dataset.cell = cell;
    cv.onmousemove = function (ev) {
      var b = cv.getBoundingClientRect(), px = ev.clientX - b.left, py = ev.clientY - b.top, out = cv.nextElementSibling;
      var line = Math.floor(py / (th * cell + L.gap)), col = Math.floor(px / (L.unit + L.apart)), rest = px - col * (L.unit + L.apart);
      var j = Math.floor(rest / (tw * cell + L.gap)), x = Math.floor((rest - j * (tw * cell + L.gap)) / cell);
      var y = Math.floor((py - line * (th * cell + L.gap)) / cell), u = line * L.across + col, k = u * L.per + j;
      if (!out || col >= L.across || j >= L.per || x >= tw || y >= th || u >= L.units || k >= m.tiles) return;
      var where = m.filters ? "filter " + u + ", input channel " + j + ", " : m.tiles > 1 ? "tile " + k + ", " : "";
      out.textContent = where + "row " + y + ", column " + x + ": ≈ " + fmt(Number((vals[(k * th + y) * tw + x] * m.scale).toPrecision(3)));
    };
  }
  function drawHist(cv, t, room) {
    cv.width = Math.max(240, Math.min(room || 420, 640));
    var counts = t.hist.counts, cx = cv.getContext("2d"), most = Math.max.apply(null, counts);
    var w = cv.width / counts.length;
    cx.fillStyle = "#777";
    counts.forEach(function (n, i) { var bh = n ? Math.max(1, (cv.height - 4) * n / most) : 0; cx.fillRect(i * w + 1, cv.height - bh, w - 2, bh); });
  }

  return {drawHeat: drawHeat, drawHist: drawHist};
})();
