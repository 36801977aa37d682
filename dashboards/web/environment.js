// Environment: a time-series chart of one device's quantity over a time range, drawn from the readings stored.
'use strict';
(() => {
  const { el, api, banner, label, num, lineChart } = Schwebe;
  Schwebe.layout();
  // What is not environment: parking state, batteries and meters (the energy page).
  const elsewhere = new Set(['occupancy', 'battery_voltage', 'heat_energy', 'active_energy', 'volume', 'power', 'flow',
                             'flow_temperature', 'return_temperature', 'distance']);
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let series = [];

  function fillQuantities() {
    const counts = new Map();
    for (const s of series) counts.set(s.quantity, (counts.get(s.quantity) || 0) + 1);
    const quantities = [...counts.keys()].sort((a, b) => label(a).localeCompare(label(b)));
    const wanted = params.get('quantity') || $('quantity').value || (counts.has('temperature') ? 'temperature' : quantities[0]);
    $('quantity').replaceChildren(...quantities.map((q) =>
      el('option', { value: q, selected: q === wanted ? '' : null }, `${label(q)} (${counts.get(q)} devices)`)));
  }
  function fillDevices() {
    const q = $('quantity').value;
    const mine = series.filter((s) => s.quantity === q).sort((a, b) => (a.device_name || a.dev_eui).localeCompare(b.device_name || b.dev_eui));
    const wanted = params.get('dev_eui') || $('device').value;
    $('device').replaceChildren(...mine.map((s) =>
      el('option', { value: s.dev_eui, selected: s.dev_eui === wanted ? '' : null }, `${s.device_name || s.dev_eui} (${s.count})`)));
  }

  async function draw() {
    const q = $('quantity').value;
    const dev = $('device').value;
    const s = series.find((x) => x.quantity === q && x.dev_eui === dev);
    const chart = $('chart');
    if (!s) {
      lineChart(chart, [], '');
      $('chart-title').textContent = 'No environment readings stored yet';
      return;
    }
    // The range ends at the newest reading, so a quiet sensor still shows its last day.
    const range = $('range').value;
    let path = `/api/readings?dev_eui=${encodeURIComponent(dev)}&quantity=${encodeURIComponent(q)}&limit=100000`;
    if (range !== 'all') {
      const to = new Date(s.last_time).getTime() + 1;
      path += `&from=${new Date(to - Number(range) * 1000).toISOString()}&to=${new Date(to).toISOString()}`;
    }
    try {
      const { points } = await api(path);
      const data = points.map((p) => ({ t: new Date(p.time), v: p.value })).sort((a, b) => a.t - b.t);
      const unit = points.length ? points[0].unit : s.unit;
      $('chart-title').textContent = `${label(q)} · ${s.device_name || s.dev_eui}`;
      chart.dataset.devEui = dev;
      chart.dataset.quantity = q;
      lineChart(chart, data, unit);
      if (data.length) {
        const vs = data.map((p) => p.v);
        const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
        $('chart-stats').textContent = `${data.length} readings · min ${num(Math.min(...vs), 2)} · mean ${num(mean, 2)} · max ${num(Math.max(...vs), 2)} ${Schwebe.unit(unit)}`;
      } else {
        $('chart-stats').textContent = '';
      }
      document.body.dataset.drawn = String(Date.now());
      banner('');
    } catch (e) {
      banner(`Readings could not be loaded: ${e.message}`);
    }
  }

  async function load() {
    try {
      series = (await api('/api/readings/series')).series.filter((s) => !elsewhere.has(s.quantity));
      fillQuantities();
      fillDevices();
      if (params.get('range')) $('range').value = params.get('range');
      await draw();
    } catch (e) {
      banner(`Environment sensors could not be loaded: ${e.message}`);
    }
  }
  $('quantity').addEventListener('change', () => { params.delete('quantity'); params.delete('dev_eui'); fillDevices(); draw(); });
  $('device').addEventListener('change', () => { params.delete('dev_eui'); draw(); });
  $('range').addEventListener('change', draw);
  load();
})();
