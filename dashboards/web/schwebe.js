// Schwebe dashboard: what every page shares (navigation, API calls, the live stream, SVG charts). Plain ES2017, no
// framework, no network access beyond this server. Data goes into the page as text, never as HTML.
'use strict';

const Schwebe = (() => {
  const pages = [
    ['index.html', 'Overview'], ['parking.html', 'Parking'], ['environment.html', 'Environment'],
    ['energy.html', 'Energy'], ['gateways.html', 'Gateways'], ['devices.html', 'Devices'], ['live.html', 'Live'],
  ];

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const svgNs = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const node = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The header: the pages, and the state of the live stream. */
  function layout() {
    const here = location.pathname.split('/').pop() || 'index.html';
    const nav = el('nav', {}, pages.map(([href, label]) =>
      el('a', { href, 'aria-current': href === here ? 'page' : null }, label)));
    const live = el('span', { class: 'live', id: 'live-state', 'data-state': 'closed' }, 'live: off');
    document.body.prepend(el('header', {}, el('span', { class: 'brand' }, 'Schwebe'), nav, live));
  }

  function banner(message) {
    const b = document.getElementById('banner');
    if (b) b.textContent = message || '';
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : response.statusText;
      throw new Error(`${path}: ${response.status} ${message}`);
    }
    return body;
  }

  /**
   * Calls `onUplink(uplink)` for each uplink the server stores, over server-sent events (/api/stream); the
   * browser reconnects by itself. The header shows whether the stream is open.
   */
  function stream(onUplink) {
    const state = document.getElementById('live-state');
    const set = (s, text) => { if (state) { state.dataset.state = s; state.textContent = text; } };
    const source = new EventSource('/api/stream');
    source.onopen = () => set('open', 'live');
    source.onerror = () => set('error', 'live: reconnecting');
    source.onmessage = (event) => {
      let uplink;
      try { uplink = JSON.parse(event.data); } catch (e) { return; }
      onUplink(uplink);
    };
    return source;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  const pad = (n) => String(n).padStart(2, '0');
  function time(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function ago(iso) {
    if (!iso) return 'never';
    const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (Number.isNaN(s)) return iso;
    if (s < 0) return 'just now';
    if (s < 90) return `${s} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} min ago`;
    if (s < 129600) return `${Math.round(s / 3600)} h ago`;
    return `${Math.round(s / 86400)} d ago`;
  }
  function num(v, digits = 1) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits });
  }

  const labels = {
    temperature: 'Temperature', relative_humidity: 'Humidity', co2: 'CO₂', tvoc: 'TVOC', pm1_0: 'PM1', pm2_5: 'PM2.5',
    pm10: 'PM10', illuminance: 'Illuminance', barometric_pressure: 'Pressure', sound_level: 'Sound level',
    external_temperature: 'External temperature', motion: 'Motion', battery_voltage: 'Battery',
    heat_energy: 'Heat energy', active_energy: 'Active energy', volume: 'Volume', power: 'Power', flow: 'Flow',
    flow_temperature: 'Flow temperature', return_temperature: 'Return temperature', occupancy: 'Occupancy',
  };
  const label = (quantity) => labels[quantity] || quantity;
  // SenML units (RFC 8428) as people write them.
  const units = { Cel: '°C', '%RH': '%', 'ug/m3': 'µg/m³', m3: 'm³', 'm3/h': 'm³/h', ppm: 'ppm' };
  const unit = (u) => (u ? units[u] || u : '');

  function niceTicks(min, max, count) {
    if (min === max) { min -= 1; max += 1; }
    const raw = (max - min) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    // From the step at or below the lowest value to the one at or above the highest: every value is inside.
    const ticks = [];
    const last = Math.ceil(max / step - 1e-9) * step;
    for (let t = Math.floor(min / step + 1e-9) * step; t <= last + step / 1e6; t += step) ticks.push(Number(t.toFixed(10)));
    return ticks;
  }

  /**
   * A line chart of `points` ([{t: Date, v: number}]) into the <svg> `target`: axes with ticks, the line, and a
   * circle per point (class "point", with its time and value in a <title>).
   */
  function lineChart(target, points, senmlUnit) {
    const unit = Schwebe.unit(senmlUnit);
    target.replaceChildren();
    const W = 800, H = 300, L = 56, R = 12, T = 12, B = 36;
    target.setAttribute('viewBox', `0 0 ${W} ${H}`);
    target.dataset.points = String(points.length);
    if (points.length === 0) {
      target.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'tick' }, 'no readings in this range'));
      return;
    }
    const ts = points.map((p) => p.t.getTime());
    const vs = points.map((p) => p.v);
    let t0 = Math.min(...ts), t1 = Math.max(...ts);
    if (t0 === t1) { t0 -= 60000; t1 += 60000; }
    const yt = niceTicks(Math.min(...vs), Math.max(...vs), 5);
    const v0 = yt[0], v1 = yt[yt.length - 1];
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - (v - v0) / (v1 - v0 || 1)) * (H - T - B);
    for (const v of yt) {
      target.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      target.append(svg('text', { class: 'tick', x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, `${num(v, 2)}`));
    }
    const span = t1 - t0;
    for (let i = 0; i <= 5; ++i) {
      const t = t0 + (span * i) / 5;
      const d = new Date(t);
      let text = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      if (span > 3 * 86400000) text = `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.`;
      else if (span < 600000) text += `:${pad(d.getSeconds())}`;
      const anchor = i === 0 ? 'start' : i === 5 ? 'end' : 'middle';
      target.append(svg('text', { class: 'tick', x: x(t), y: H - B + 16, 'text-anchor': anchor }, text));
    }
    if (unit) target.append(svg('text', { class: 'tick', x: 4, y: T + 4 }, unit));
    target.append(svg('polyline', { class: 'line', points: points.map((p) => `${x(p.t.getTime()).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }));
    const dots = svg('g', { class: 'points' });
    for (const p of points) {
      const c = svg('circle', { class: 'point', cx: x(p.t.getTime()).toFixed(1), cy: y(p.v).toFixed(1), r: 2.6 });
      c.append(svg('title', {}, `${time(p.t.toISOString())}: ${num(p.v, 3)} ${unit || ''}`));
      dots.append(c);
    }
    target.append(dots);
  }

  /**
   * Bars ([{label, v}]) into the <svg> `target`, one rect of class "column" each, with its value in a <title>;
   * `size` is the drawing's [width, height] (default 800 × 220), to keep text readable in small cards.
   */
  function barChart(target, bars, senmlUnit, size) {
    const unit = Schwebe.unit(senmlUnit);
    target.replaceChildren();
    const [W, H] = size || [800, 220];
    const L = 56, R = 12, T = 12, B = 36;
    target.setAttribute('viewBox', `0 0 ${W} ${H}`);
    target.dataset.bars = String(bars.length);
    if (bars.length === 0) {
      target.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'tick' }, 'no readings'));
      return;
    }
    const yt = niceTicks(0, Math.max(...bars.map((b) => b.v), 0), 4);
    const v1 = yt[yt.length - 1] || 1;
    const y = (v) => T + (1 - v / v1) * (H - T - B);
    for (const v of yt) {
      target.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      target.append(svg('text', { class: 'tick', x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, `${num(v, 2)}`));
    }
    if (unit) target.append(svg('text', { class: 'tick', x: 4, y: T + 4 }, unit));
    const slot = (W - L - R) / bars.length;
    const every = Math.ceil(bars.length / 10);
    bars.forEach((b, i) => {
      const h = Math.max(0, y(0) - y(Math.max(b.v, 0)));
      const rect = svg('rect', { class: 'column', x: (L + i * slot + slot * 0.15).toFixed(1), y: (y(0) - h).toFixed(1),
                                 width: (slot * 0.7).toFixed(1), height: h.toFixed(1), 'data-value': String(b.v) });
      rect.append(svg('title', {}, `${b.label}: ${num(b.v, 3)} ${unit || ''}`));
      target.append(rect);
      if (i % every === 0) {
        target.append(svg('text', { class: 'tick', x: L + i * slot + slot / 2, y: H - B + 16, 'text-anchor': 'middle' }, b.label));
      }
    });
  }

  return { el, svg, layout, banner, api, stream, debounce, time, ago, num, label, unit, lineChart, barChart };
})();
