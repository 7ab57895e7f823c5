/* Pictures of a tensor for the explorer page (explorer.js uses them): a heat map of the 2-D slice the page
   carries (a grid of tiles, float16 of value/scale; viz/pictures.py writes it) and a histogram's bars. */
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
  function drawHeat(cv, t, fmt) {  // one square of `cell` px per value, tiles 1-2 px apart
    var m = t.heat, vals = halfs(m.data), gr = m.grid[0], gc = m.grid[1], th = m.tile[0], tw = m.tile[1];
    var tiled = gr * gc > 1, cell = Math.max(1, Math.min(24, Math.floor(Math.min(400 / (gc * tw), 480 / (gr * th)))));
    var gap = tiled ? (cell > 3 ? 2 : 1) : 0, stepX = tw * cell + gap, stepY = th * cell + gap;
    var W = gc * stepX - gap, H = gr * stepY - gap;
    cv.width = W; cv.height = H;
    var cx = cv.getContext("2d"), img = cx.createImageData(W, H);
    for (var r = 0; r < gr; r++) for (var c = 0; c < gc; c++) {
      if (r * gc + c >= m.tiles) continue;
      for (var y = 0; y < th; y++) for (var x = 0; x < tw; x++) {
        var rgb = color(vals[((r * gc + c) * th + y) * tw + x]), x0 = c * stepX + x * cell, y0 = r * stepY + y * cell;
        for (var dy = 0; dy < cell; dy++) for (var dx = 0; dx < cell; dx++) {
          var p = 4 * ((y0 + dy) * W + x0 + dx);
          img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2]; img.data[p + 3] = 255;
        }
      }
    }
    cx.putImageData(img, 0, 0);
    cv.onmousemove = function (ev) {
      var b = cv.getBoundingClientRect(), px = ev.clientX - b.left, py = ev.clientY - b.top;
      var c = Math.floor(px / stepX), r = Math.floor(py / stepY), x = Math.floor((px - c * stepX) / cell), y = Math.floor((py - r * stepY) / cell);
      var out = cv.nextElementSibling;
      if (!out || x >= tw || y >= th || r >= gr || c >= gc || r * gc + c >= m.tiles) return;
      var where = m.filters ? "filter " + r + ", input channel " + c + ", " : tiled ? "tile " + (r * gc + c) + ", " : "";
      out.textContent = where + "row " + y + ", column " + x + ": ≈ " + fmt(Number((vals[((r * gc + c) * th + y) * tw + x] * m.scale).toPrecision(3)));
    };
  }
  function drawHist(cv, t) {
    var counts = t.hist.counts, cx = cv.getContext("2d"), most = Math.max.apply(null, counts);
    var w = cv.width / counts.length;
    cx.fillStyle = "#777";
    counts.forEach(function (n, i) { var bh = n ? Math.max(1, (cv.height - 4) * n / most) : 0; cx.fillRect(i * w + 1, cv.height - bh, w - 2, bh); });
  }

  return {drawHeat: drawHeat, drawHist: drawHist};
})();
