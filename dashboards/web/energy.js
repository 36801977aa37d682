// Energy: consumption per meter per day (bars) and the totals, from the meters' cumulative readings.
'use strict';
(() => {
  const { el, svg, api, banner, label, num, barChart } = Schwebe;
  Schwebe.layout();
  const cumulative = new Set(['heat_energy', 'active_energy']);  // registers that count up, in kWh
  const $ = (id) => document.getElementById(id);
  const day = 86400000;

  /**
   * Daily consumption from a cumulative register's per-day buckets: a day's use is its highest reading less the
   * day before's highest (the first day: less its own lowest). A register that went backwards (a replaced meter)
   * counts nothing for that day.
   */
  function perDay(buckets) {
    const out = [];
    let previous = null;
    for (const b of buckets) {
      const use = previous === null ? b.max - b.min : b.max - previous;
      out.push({ start: new Date(b.start), v: Math.max(0, use) });
      previous = b.max;
    }
    return out;
  }

  async function refresh() {
    try {
      const days = Number($('days').value);
      const meters = (await api('/api/readings/series')).series.filter((s) => cumulative.has(s.quantity));
      const totals = new Map();  // quantity -> {unit, used, meters}
      const cards = [];
      for (const m of meters.sort((a, b) => (a.device_name || '').localeCompare(b.device_name || ''))) {
        const to = new Date(m.last_time).getTime() + 1;
        const from = Math.floor((to - days * day) / day) * day;
        const { buckets } = await api(`/api/readings?dev_eui=${m.dev_eui}&quantity=${m.quantity}&interval=86400` +
                                      `&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
        const daily = perDay(buckets);
        const used = daily.reduce((a, d) => a + d.v, 0);
        const unit = Schwebe.unit(buckets.length ? buckets[0].unit : m.unit);
        const t = totals.get(m.quantity) || { unit, used: 0, meters: 0, register: 0 };
        t.used += used; t.meters += 1; t.register += m.last_value;
        totals.set(m.quantity, t);
        const chart = svg('svg', { class: 'chart', role: 'img', 'aria-label': `${label(m.quantity)} per day` });
        barChart(chart, daily.map((d) => ({ label: `${String(d.start.getUTCDate()).padStart(2, '0')}.${String(d.start.getUTCMonth() + 1).padStart(2, '0')}.`, v: d.v })), unit, [400, 200]);
        cards.push(el('section', { class: 'card meter', 'data-dev-eui': m.dev_eui, 'data-quantity': m.quantity, 'data-used': String(used) },
          el('h2', {}, m.device_name || m.dev_eui),
          el('div', { class: 'muted' }, `${label(m.quantity)}: ${num(used, 2)} ${unit} in ${daily.length} days · register ${num(m.last_value, 2)} ${unit}`),
          chart));
      }
      $('meters').replaceChildren(...cards);
      $('totals').replaceChildren(...[...totals].map(([q, t]) =>
        el('section', { class: 'card total', 'data-quantity': q },
          el('h2', {}, label(q)),
          el('div', { class: 'figure' }, `${num(t.used, 1)} ${t.unit}`),
          el('div', { class: 'muted' }, `used by ${t.meters} meters in the last ${days} days; registers total ${num(t.register, 0)} ${t.unit}`))));
      if (meters.length === 0) banner('No meter has reported yet.');
      else banner('');
    } catch (e) {
      banner(`Energy could not be loaded: ${e.message}`);
    }
  }
  $('days').addEventListener('change', refresh);
  refresh();
  setInterval(refresh, 60000);
})();
