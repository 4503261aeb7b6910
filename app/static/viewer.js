// The GazeScope viewer: a canvas image layer (window/level through a 65536-entry LUT on the
// 16-bit stored values), the attention map drawn on the same canvas, and an SVG layer for
// vector overlays (regions, measurements, scanpath, highlights). All view state (zoom, pan,
// window/level, invert, overlay toggles, playback) lives in this closure: a server update only
// replaces the case data, and the view is reset only when a different case arrives.
const root = element.querySelector('.gs-viewer');
const stage = root.querySelector('.gs-stage');
const canvas = root.querySelector('canvas.gs-img');
const ctx = canvas.getContext('2d');
const svg = root.querySelector('svg.gs-ov');
const hud = root.querySelector('.gs-hud');
const empty = root.querySelector('.gs-empty');
const $ = (sel) => root.querySelector(sel);
const SVGNS = 'http://www.w3.org/2000/svg';

const S = {
  data: null, caseId: null, loadSeq: 0,
  vals: null, w: 0, h: 0, full: null, fullCtx: null, imgData: null,
  wl: { c: 0.5, w: 1 }, invert: false, mono1: false,
  view: { scale: 1, tx: 0, ty: 0, fit: true },
  ov: { scanpath: true, attention: true, regions: false, measurements: true },
  pref: { scanpath: true, attention: true, regions: false, measurements: true }, // the reader's choice
  map: null, opacity: 0.45, heat: null,
  play: { t: 0, playing: false, speed: 1, sample: 0, last: 0, frames: 0, fpsT0: 0 },
  sel: null, regionSel: null,
};
root.__state = S; // for tests and debugging in the browser console

// ---- groups in the SVG layer -------------------------------------------------------------
const gView = document.createElementNS(SVGNS, 'g');
const layers = {};
for (const name of ['regions', 'meas', 'scan', 'hl']) {
  layers[name] = document.createElementNS(SVGNS, 'g');
  layers[name].setAttribute('class', 'gs-' + name);
  gView.appendChild(layers[name]);
}
svg.appendChild(gView);

function el(tag, attrs, parent) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  if (parent) parent.appendChild(n);
  return n;
}
const px = (p) => [p[0] * S.w, p[1] * S.h];
// overlay sizes are set in screen pixels at the fitted zoom, so they read the same on any image
const unit = () => 1 / (S.fitScale || 1);

// ---- image decoding and window/level ------------------------------------------------------
// decoded images of the last few cases, so switching back to a case skips fetch and decode
const decoded = new Map();
const DECODED_MAX = 4;
async function loadImage(info, seq) {
  const hit = decoded.get(info.url);
  if (hit) {
    decoded.delete(info.url); decoded.set(info.url, hit); // most recent last
    Object.assign(S, hit);
    return true;
  }
  // the codes' row-wise differences, high-byte plane then low-byte plane, in one zlib stream
  // (app/payload.py: IMAGE_ENCODING), inflated natively
  const resp = await fetch(info.url);
  if (!resp.ok) throw new Error('image ' + resp.status);
  if (info.encoding !== 'u16-rowdelta-planes-zlib') throw new Error('unknown image encoding ' + info.encoding);
  const buf = await new Response(resp.body.pipeThrough(new DecompressionStream('deflate'))).arrayBuffer();
  if (seq !== S.loadSeq) return false;
  const w = info.width, h = info.height, n = w * h;
  if (buf.byteLength !== 2 * n) throw new Error(`image has ${buf.byteLength} bytes, expected ${2 * n}`);
  // reuse the buffers of the case last dropped from the cache (same size): a 2k image needs
  // ~40 MB of them, and garbage-collecting that much shows up as a pause on the next draw
  const spare = S.spare && S.spare.w === w && S.spare.h === h ? S.spare : null;
  S.spare = null;
  const b = new Uint8Array(buf), vals = spare ? spare.vals : new Uint16Array(n);
  let lo = 65535, hi = 0, sum = 0;
  for (let y = 0; y < h; y++) {
    let v = 0;
    for (let i = y * w, end = i + w; i < end; i++) {
      v = (v + ((b[i] << 8) | b[n + i])) & 0xffff;
      vals[i] = v; sum += v; if (v < lo) lo = v; if (v > hi) hi = v;
    }
  }
  let full, fctx, rgba;
  if (spare) ({ full, fullCtx: fctx, imgData: rgba } = spare);
  else {
    full = document.createElement('canvas');
    full.width = w; full.height = h;
    fctx = full.getContext('2d', { willReadFrequently: true });
    rgba = fctx.createImageData(w, h);
  }
  const entry = { vals, w, h, full, fullCtx: fctx, imgData: rgba };
  Object.assign(S, entry);
  decoded.set(info.url, entry);
  while (decoded.size > DECODED_MAX) {
    const oldest = decoded.keys().next().value;
    S.spare = decoded.get(oldest);
    decoded.delete(oldest);
  }
  root.dataset.valueStats = lo + ',' + hi + ',' + sum; // lets tests check the decode was lossless
  return true;
}

// stored value <-> 16-bit code: stored = offset + code * scale
const toCode = (stored) => (stored - S.data.image.offset) / S.data.image.scale;
const toStored = (code) => S.data.image.offset + code * S.data.image.scale;

function applyWL() {
  if (!S.vals) return;
  const lut = new Uint32Array(65536);
  const lo = S.wl.c - S.wl.w / 2, inv = S.invert !== S.mono1;
  for (let u = 0; u < 65536; u++) {
    let g = Math.round(((u - lo) / S.wl.w) * 255);
    g = g < 0 ? 0 : g > 255 ? 255 : g;
    if (inv) g = 255 - g;
    lut[u] = 0xff000000 | (g << 16) | (g << 8) | g; // little-endian RGBA
  }
  const out = new Uint32Array(S.imgData.data.buffer), vals = S.vals;
  for (let i = 0, n = vals.length; i < n; i++) out[i] = lut[vals[i]];
  S.fullCtx.putImageData(S.imgData, 0, 0);
  root.dataset.wl = Math.round(toStored(S.wl.c)) + ',' + Math.round(S.wl.w * S.data.image.scale);
  root.dataset.invert = String(S.invert);
  const wlText = $('.gs-wl-text');
  if (wlText) wlText.textContent = `C ${Math.round(toStored(S.wl.c))}  W ${Math.round(S.wl.w * S.data.image.scale)}`;
}

function setWindow(win) { // win in stored units
  S.wl = { c: toCode(win.center), w: Math.max(1, win.width / S.data.image.scale) };
  applyWL(); draw();
}

function autoWindow() { // 0.5th-99.5th percentile of the values, subsampled
  if (!S.vals) return;
  const step = Math.max(1, Math.floor(S.vals.length / 400000)), hist = new Uint32Array(4096);
  let n = 0;
  for (let i = 0; i < S.vals.length; i += step) { hist[S.vals[i] >> 4]++; n++; }
  let acc = 0, a = 0, b = 4095;
  for (let i = 0; i < 4096; i++) { acc += hist[i]; if (acc >= n * 0.005) { a = i; break; } }
  acc = 0;
  for (let i = 4095; i >= 0; i--) { acc += hist[i]; if (acc >= n * 0.005) { b = i; break; } }
  const lo = a << 4, hi = (b << 4) + 15;
  S.wl = { c: (lo + hi) / 2, w: Math.max(1, hi - lo) };
  $('.gs-preset').value = 'auto';
  applyWL(); draw();
}

// ---- view transform ----------------------------------------------------------------------
function stageSize() { return [stage.clientWidth, stage.clientHeight]; }
function fit() {
  const [cw, ch] = stageSize();
  if (!S.w || !cw || !ch) return;
  const s = Math.min(cw / S.w, ch / S.h) * 0.98;
  S.view = { scale: s, tx: (cw - S.w * s) / 2, ty: (ch - S.h * s) / 2, fit: true };
  if (S.fitScale !== s) { S.fitScale = s; if (S.data) { drawRegions(); drawMeasurements(); drawScanpath(); drawHighlight(); } }
}
function zoomAt(factor, cx, cy) {
  const v = S.view, s = Math.min(40, Math.max(0.05, v.scale * factor)), f = s / v.scale;
  S.view = { scale: s, tx: cx - (cx - v.tx) * f, ty: cy - (cy - v.ty) * f, fit: false };
  draw();
}
function toImage(ev) { // client position -> normalised image coordinates
  const r = stage.getBoundingClientRect(), v = S.view;
  return [((ev.clientX - r.left - v.tx) / v.scale) / S.w, ((ev.clientY - r.top - v.ty) / v.scale) / S.h];
}

// ---- drawing -----------------------------------------------------------------------------
function draw() {
  const [cw, ch] = stageSize(), dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
    canvas.width = Math.round(cw * dpr); canvas.height = Math.round(ch * dpr);
  }
  svg.setAttribute('viewBox', `0 0 ${cw} ${ch}`);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!S.full) return;
  const v = S.view;
  ctx.setTransform(v.scale * dpr, 0, 0, v.scale * dpr, v.tx * dpr, v.ty * dpr);
  ctx.imageSmoothingEnabled = v.scale < 2;
  ctx.drawImage(S.full, 0, 0);
  if (S.ov.attention && S.heat) {
    ctx.globalAlpha = S.opacity; ctx.imageSmoothingEnabled = true;
    ctx.drawImage(S.heat, 0, 0, S.w, S.h);
    ctx.globalAlpha = 1;
  }
  gView.setAttribute('transform', `matrix(${v.scale},0,0,${v.scale},${v.tx},${v.ty})`);
  root.dataset.zoom = v.scale.toFixed(4);
  root.dataset.pan = v.tx.toFixed(1) + ',' + v.ty.toFixed(1);
  $('.gs-zoom-text').textContent = Math.round(v.scale * 100) + '%';
}

function drawRegions() {
  const g = layers.regions; g.replaceChildren();
  if (!S.data || !S.ov.regions) return;
  const u = unit();
  for (const r of S.data.anatomy.regions) {
    if (!r.polygon || r.polygon.length < 3) continue;
    el('polygon', { points: r.polygon.map((p) => px(p).join(',')).join(' '), class: 'gs-region',
      'data-region': r.id }, g);
    const [x0, y0, x1, y1] = r.box;
    const t = el('text', { x: ((x0 + x1) / 2) * S.w, y: ((y0 + y1) / 2) * S.h, class: 'gs-region-label',
      'font-size': 11 * u }, g);
    t.textContent = r.id.replace(/_/g, ' ');
  }
}

function drawMeasurements() {
  const g = layers.meas; g.replaceChildren();
  if (!S.data || !S.ov.measurements) return;
  const u = unit();
  for (const m of S.data.anatomy.measurements) {
    for (const [a, b] of m.lines || []) {
      const [x0, y0] = px(a), [x1, y1] = px(b);
      el('line', { x1: x0, y1: y0, x2: x1, y2: y1, class: 'gs-meas', 'data-meas': m.id }, g);
    }
    for (const p of m.points || []) {
      const [x, y] = px(p);
      el('circle', { cx: x, cy: y, r: 4 * u, class: 'gs-meas-pt', 'data-meas': m.id }, g);
    }
    if (m.id === 'cardiothoracic_ratio' && m.lines && m.lines.length) {
      const [x, y] = px(m.lines[0][1]);
      const t = el('text', { x: x + 6 * u, y: y - 5 * u, class: 'gs-meas-label', 'font-size': 13 * u }, g);
      t.textContent = 'CTR ' + Number(m.value).toFixed(2);
    }
  }
}

function currentPath() {
  const sps = (S.data && S.data.scanpaths) || [];
  return sps[Math.min(S.play.sample, sps.length - 1)] || [];
}
function pathEnd(path) { return path.length ? path[path.length - 1].start_s + path[path.length - 1].duration_s : 0; }

function drawScanpath() {
  const g = layers.scan; g.replaceChildren();
  const path = currentPath();
  const shown = path.filter((f) => f.start_s <= S.play.t);
  root.dataset.fixationsShown = String(S.ov.scanpath ? shown.length : 0);
  $('.gs-time').textContent = `${S.play.t.toFixed(1)} / ${pathEnd(path).toFixed(1)} s`;
  if (!S.ov.scanpath || !shown.length) return;
  const u = unit();
  const pts = shown.map((f) => px([f.x, f.y]));
  el('polyline', { points: pts.map((p) => p.join(',')).join(' '), class: 'gs-saccade' }, g);
  const cur = shown.length - 1;
  shown.forEach((f, i) => {
    const r = (4 + 13 * Math.sqrt(Math.min(f.duration_s, 2) / 0.6)) * u;
    const c = el('circle', { cx: pts[i][0], cy: pts[i][1], r, class: 'gs-fix' + (i === cur ? ' gs-fix-cur' : ''),
      'data-fix': i }, g);
    c.style.opacity = String(0.35 + 0.65 * (i + 1) / shown.length);
    const t = el('text', { x: pts[i][0], y: pts[i][1], class: 'gs-fix-num', 'font-size': 10 * u }, g);
    t.textContent = String(i + 1);
  });
}

function drawHighlight() {
  const g = layers.hl; g.replaceChildren();
  const ids = [];
  if (!S.data) return;
  const u = unit();
  const sent = S.sel && S.data.sentences.find((s) => s.id === S.sel);
  const regionIds = sent ? sent.region_ids : S.regionSel ? [S.regionSel] : [];
  for (const rid of regionIds) {
    const r = S.data.anatomy.regions.find((q) => q.id === rid);
    if (!r) continue;
    ids.push(rid);
    if (r.polygon && r.polygon.length >= 3) {
      el('polygon', { points: r.polygon.map((p) => px(p).join(',')).join(' '), class: 'gs-hl-region', 'data-region': rid }, g);
    } else {
      const [x0, y0, x1, y1] = r.box;
      el('rect', { x: x0 * S.w, y: y0 * S.h, width: (x1 - x0) * S.w, height: (y1 - y0) * S.h, class: 'gs-hl-region', 'data-region': rid }, g);
    }
  }
  if (sent) {
    const ev = sent.evidence || {};
    const path = currentPath();
    for (const [s, i] of ev.fixations || []) {
      if (s !== S.play.sample || !path[i]) continue;
      const [x, y] = px([path[i].x, path[i].y]);
      el('circle', { cx: x, cy: y, r: 20 * u, class: 'gs-hl-fix' }, g);
    }
    if (ev.attention_peak) {
      const [x, y] = px(ev.attention_peak), d = 18 * u;
      el('path', { d: `M${x - d},${y}H${x + d}M${x},${y - d}V${y + d}`, class: 'gs-hl-peak' }, g);
      el('circle', { cx: x, cy: y, r: d * 0.6, class: 'gs-hl-peak' }, g);
    }
    if (ev.measurement) {
      const m = S.data.anatomy.measurements.find((q) => q.id === ev.measurement.id);
      for (const [a, b] of (m && m.lines) || []) {
        const [x0, y0] = px(a), [x1, y1] = px(b);
        el('line', { x1: x0, y1: y0, x2: x1, y2: y1, class: 'gs-hl-meas' }, g);
      }
    }
  }
  root.dataset.highlight = ids.join(' ');
}

function redrawOverlays() { drawRegions(); drawMeasurements(); drawScanpath(); drawHighlight(); draw(); }

// ---- attention maps ----------------------------------------------------------------------
function colour(t) { // a perceptual-ish warm map, alpha grows with the value
  const r = Math.min(255, 510 * t), gg = Math.max(0, Math.min(255, 510 * (t - 0.35))), b = Math.max(0, 255 * (t - 0.8) * 5);
  return [r, gg, b, Math.round(255 * Math.min(1, t * 1.4))];
}
function buildHeat() {
  S.heat = null;
  const maps = (S.data && S.data.maps) || {};
  const m = S.map && maps[S.map];
  root.dataset.map = m ? S.map : '';
  if (!m) return;
  const [gh, gw] = m.shape, bytes = atob(m.b64);
  const c = document.createElement('canvas'); c.width = gw; c.height = gh;
  const cx = c.getContext('2d'), id = cx.createImageData(gw, gh);
  for (let i = 0; i < gh * gw; i++) {
    const [r, g, b, a] = colour(bytes.charCodeAt(i) / 255);
    id.data[4 * i] = r; id.data[4 * i + 1] = g; id.data[4 * i + 2] = b; id.data[4 * i + 3] = a;
  }
  cx.putImageData(id, 0, 0);
  S.heat = c;
}

// ---- playback (entirely in the browser: no server round trip per frame) -------------------
function tick(now) {
  if (!S.play.playing) return;
  const dt = S.play.last ? (now - S.play.last) / 1000 : 0;
  S.play.last = now;
  S.play.t += dt * S.play.speed;
  S.play.frames++;
  const path = currentPath(), end = pathEnd(path);
  if (S.play.t >= end) { S.play.t = end; setPlaying(false); }
  drawScanpath(); drawHighlight();
  if (now - S.play.fpsT0 >= 1000) {
    root.dataset.fps = (S.play.frames * 1000 / (now - S.play.fpsT0)).toFixed(1);
    S.play.frames = 0; S.play.fpsT0 = now;
  }
  if (S.play.playing) requestAnimationFrame(tick);
}
function setPlaying(on) {
  const path = currentPath();
  if (on && !path.length) return;
  if (on && S.play.t >= pathEnd(path)) S.play.t = 0;
  S.play.playing = on; S.play.last = 0; S.play.frames = 0; S.play.fpsT0 = performance.now();
  root.dataset.playing = String(on);
  $('[data-act=play]').textContent = on ? '❚❚ Pause' : '▶ Play';
  if (on) { if (!S.ov.scanpath) toggleOverlay('scanpath', true); requestAnimationFrame(tick); }
}
function step(dir) { // jump to the next/previous fixation onset
  setPlaying(false);
  const path = currentPath();
  const starts = path.map((f) => f.start_s);
  if (dir > 0) { const nx = starts.find((s) => s > S.play.t + 1e-9); S.play.t = nx !== undefined ? nx : pathEnd(path); }
  else { const n = starts.filter((s) => s <= S.play.t).length; S.play.t = n >= 2 ? starts[n - 2] : -1e-6; }
  drawScanpath(); drawHighlight();
}

function toggleOverlay(name, on) {
  const lab = root.querySelector(`label[data-ovl=${name}]`);
  if (lab && lab.style.display === 'none') return; // not shown in this study arm
  S.ov[name] = on === undefined ? !S.ov[name] : on;
  S.pref[name] = S.ov[name];
  const box = root.querySelector(`input[data-ov=${name}]`);
  if (box) box.checked = S.ov[name];
  root.dataset.overlays = Object.keys(S.ov).filter((k) => S.ov[k]).join(' ');
  redrawOverlays();
}

// ---- a new case (or the same case re-sent) -----------------------------------------------
function fillSelect(sel, options, value) {
  sel.replaceChildren();
  for (const [v, label] of options) { const o = document.createElement('option'); o.value = v; o.textContent = label; sel.appendChild(o); }
  if (value !== undefined) sel.value = value;
}

async function render(data) {
  if (!data || !data.image) {
    setPlaying(false);
    Object.assign(S, { data: null, caseId: null, full: null, heat: null, sel: null, regionSel: null });
    for (const g of Object.values(layers)) g.replaceChildren();
    empty.style.display = ''; root.dataset.renderedCase = ''; draw(); return;
  }
  const newCase = data.case !== S.caseId;
  if (!newCase && !S.full && S.loadSeq) { S.data = data; return; } // its image is still loading: that render draws
  root.dataset.valueAt = String(performance.now()); // benchmarks: when the server's value arrived
  S.data = data;
  empty.style.display = 'none';
  const allowed = data.allowed_overlays || ['scanpath', 'attention', 'regions', 'measurements'];
  for (const name of ['scanpath', 'attention', 'regions', 'measurements']) {
    const lab = root.querySelector(`label[data-ovl=${name}]`);
    lab.style.display = allowed.includes(name) ? '' : 'none';
    S.ov[name] = allowed.includes(name) && S.pref[name]; // a study arm may hide an overlay
    lab.querySelector('input').checked = S.ov[name];
  }
  $('.gs-play').style.display = allowed.includes('scanpath') ? '' : 'none';
  if (newCase) {
    S.caseId = data.case; S.sel = null; S.regionSel = null;
    setPlaying(false); S.play.t = 1e9; S.play.sample = 0;
    hud.textContent = data.title || '';
    fillSelect($('.gs-preset'), [...data.image.windows.map((w, i) => [String(i), w.name || `window ${i + 1}`]), ['auto', 'Auto (0.5-99.5 %)'], ['full', 'Full range']], '0');
    fillSelect($('.gs-sample'), (data.scanpaths || []).map((_, i) => [String(i), `sample ${i + 1}`]), '0');
    const mapOpts = Object.entries(data.maps || {}).map(([k, m]) => [k, m.label]);
    fillSelect($('.gs-map'), mapOpts.length ? mapOpts : [['', 'no maps']], mapOpts.length ? mapOpts[0][0] : '');
    S.map = mapOpts.length ? mapOpts[0][0] : null;
    const seq = ++S.loadSeq;
    root.dataset.renderedCase = '';
    S.full = null; draw();
    let ok;
    try {
      ok = await loadImage(data.image, seq);
    } catch (err) { // the next value for this case tries again
      if (seq === S.loadSeq) { S.caseId = null; hud.textContent = `${data.title || ''}: the image could not be loaded (${err.message})`; }
      return;
    }
    if (!ok) return;
    root.dataset.imageAt = String(performance.now());
    S.mono1 = !!data.image.invert; S.invert = false;
    const w0 = data.image.windows[0];
    S.wl = w0 ? { c: toCode(w0.center), w: Math.max(1, w0.width / data.image.scale) } : { c: 32767, w: 65535 };
    applyWL(); fit(); buildHeat();
    S.play.t = pathEnd(currentPath());
  } else {
    buildHeat();
  }
  root.dataset.overlays = Object.keys(S.ov).filter((k) => S.ov[k]).join(' ');
  redrawOverlays();
  root.dataset.renderedCase = data.case;
  root.dataset.renderedAt = String(performance.now());
  gs.emit('viewer-rendered', { case: data.case });
}

// ---- toolbar -----------------------------------------------------------------------------
root.addEventListener('click', (e) => {
  const b = e.target.closest('.gs-toolbar [data-act]');
  if (!b || !S.data) return;
  const [cw, ch] = stageSize();
  ({
    invert: () => { S.invert = !S.invert; applyWL(); draw(); },
    auto: autoWindow,
    zoomin: () => zoomAt(1.25, cw / 2, ch / 2),
    zoomout: () => zoomAt(0.8, cw / 2, ch / 2),
    fit: () => { fit(); draw(); },
    reset: resetView,
    play: () => setPlaying(!S.play.playing),
    step: () => step(1),
    back: () => step(-1),
  })[b.dataset.act]?.();
});
function resetView() {
  S.invert = false;
  const w0 = S.data.image.windows[0];
  if (w0) setWindow(w0);
  $('.gs-preset').value = '0';
  fit(); applyWL(); draw();
}
root.querySelectorAll('input[data-ov]').forEach((box) => box.addEventListener('change', () => toggleOverlay(box.dataset.ov, box.checked)));
$('.gs-preset').addEventListener('change', (e) => {
  const v = e.target.value;
  if (v === 'auto') autoWindow();
  else if (v === 'full') { S.wl = { c: 32767.5, w: 65536 }; applyWL(); draw(); }
  else setWindow(S.data.image.windows[Number(v)]);
  e.target.blur();
});
$('.gs-sample').addEventListener('change', (e) => { S.play.sample = Number(e.target.value); S.play.t = pathEnd(currentPath()); drawScanpath(); drawHighlight(); e.target.blur(); });
$('.gs-speed').addEventListener('change', (e) => { S.play.speed = Number(e.target.value); e.target.blur(); });
$('.gs-map').addEventListener('change', (e) => { S.map = e.target.value || null; buildHeat(); draw(); e.target.blur(); gs.emit('map-changed', { map: S.map }); });
$('.gs-opacity').addEventListener('input', (e) => { S.opacity = Number(e.target.value) / 100; draw(); });

// ---- mouse: left drag = window/level, shift/middle/right drag = pan, wheel = zoom ---------
let drag = null;
stage.addEventListener('contextmenu', (e) => e.preventDefault());
stage.addEventListener('pointerdown', (e) => {
  if (!S.full) return;
  stage.setPointerCapture(e.pointerId);
  drag = { x: e.clientX, y: e.clientY, moved: false, pan: e.button !== 0 || e.shiftKey, wl: { ...S.wl }, v: { ...S.view } };
});
stage.addEventListener('pointermove', (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  if (!drag.moved) return;
  if (drag.pan) {
    S.view = { ...drag.v, tx: drag.v.tx + dx, ty: drag.v.ty + dy, fit: false }; draw();
  } else {
    const k = drag.wl.w / 300;
    S.wl = { c: drag.wl.c - dy * k, w: Math.max(1, drag.wl.w + dx * k) };
    $('.gs-preset').value = '';
    if (!S.wlPending) { S.wlPending = true; requestAnimationFrame(() => { S.wlPending = false; applyWL(); draw(); }); }
  }
});
stage.addEventListener('pointerup', (e) => {
  const d = drag; drag = null;
  if (!d || d.moved || !S.data) return;
  const [x, y] = toImage(e);
  const hits = S.data.anatomy.regions.filter((r) => r.polygon && r.polygon.length >= 3 && inside(x, y, r.polygon));
  hits.sort((a, b) => area(a.box) - area(b.box));
  S.regionSel = hits.length ? hits[0].id : null; S.sel = null;
  drawHighlight();
  gs.emit('region-click', { case: S.caseId, region_id: S.regionSel });
});
stage.addEventListener('dblclick', () => { fit(); draw(); });
stage.addEventListener('wheel', (e) => {
  if (!S.full) return;
  e.preventDefault();
  const r = stage.getBoundingClientRect();
  zoomAt(Math.exp(-e.deltaY / 500), e.clientX - r.left, e.clientY - r.top);
}, { passive: false });
function inside(x, y, poly) {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}
const area = (b) => (b[2] - b[0]) * (b[3] - b[1]);

new ResizeObserver(() => { if (S.view.fit) fit(); draw(); }).observe(stage);

// ---- links with the report panel ---------------------------------------------------------
gs.on('sentence-select', 'viewer', (d) => {
  if (!S.data || d.case !== S.caseId) return;
  S.sel = d.sentence_id; S.regionSel = null;
  if (d.map && S.data.maps && S.data.maps[d.map] && S.map !== d.map) { S.map = d.map; $('.gs-map').value = d.map; buildHeat(); draw(); }
  drawHighlight();
});
gs.on('finding-select', 'viewer', (d) => {
  if (!S.data || !S.data.maps || !S.data.maps[d.finding]) return;
  S.map = d.finding; $('.gs-map').value = d.finding; buildHeat();
  if (!S.ov.attention) toggleOverlay('attention', true); else draw();
});

gs.bindKeys('viewer', {
  ' ': () => setPlaying(!S.play.playing),
  '.': () => step(1),
  ',': () => step(-1),
  s: () => toggleOverlay('scanpath'),
  t: () => toggleOverlay('attention'),
  g: () => toggleOverlay('regions'),
  m: () => toggleOverlay('measurements'),
  i: () => { if (S.data) { S.invert = !S.invert; applyWL(); draw(); } },
  0: () => { if (S.data) resetView(); },
  f: () => { fit(); draw(); },
  '+': () => { const [cw, ch] = stageSize(); zoomAt(1.25, cw / 2, ch / 2); },
  '=': () => { const [cw, ch] = stageSize(); zoomAt(1.25, cw / 2, ch / 2); },
  '-': () => { const [cw, ch] = stageSize(); zoomAt(0.8, cw / 2, ch / 2); },
  w: () => autoWindow(),
});

// progress while a case opens through the fast path (the queued path has Gradio's own): shown
// only if the answer takes a while, so switching between computed cases never flickers
const busy = root.querySelector('.gs-busy');
const B = { timer: null, t0: 0 };
function busyOff() { clearInterval(B.timer); B.timer = null; busy.style.display = 'none'; root.dataset.busy = ''; }
gs.on('case-opening', 'viewer', () => {
  busyOff();
  B.t0 = performance.now();
  B.timer = setInterval(() => {
    const s = (performance.now() - B.t0) / 1000;
    if (s < 0.25) return;
    busy.textContent = `Opening the case: reading the image and running the models… ${s.toFixed(1)} s`;
    busy.style.display = ''; root.dataset.busy = '1';
  }, 100);
});
gs.on('case-open-done', 'viewer', busyOff);
gs.on('viewer-rendered', 'viewer-busy', busyOff);

const receive = gs.receiver(render);
gs.on('case-values', 'viewer', (v) => receive(v.viewer));
watch('value', () => receive(props.value));
receive(props.value);
