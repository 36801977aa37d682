// Devices: last seen, battery, RSSI/SNR, FCnt and codec errors of each, filterable.
'use strict';
(() => {
  const { el, api, banner, ago, num, debounce, stream } = Schwebe;
  Schwebe.layout();
  let devices = [];

  function render() {
    const q = document.getElementById('filter').value.trim().toLowerCase();
    const shown = devices.filter((d) => !q || [d.name, d.dev_eui, d.profile, d.application].some((s) => (s || '').toLowerCase().includes(q)));
    const battery = (d) => (d.battery === null || d.battery === undefined ? '–' : `${num(d.battery, 2)} ${d.battery_unit || ''}`);
    document.querySelector('#devices tbody').replaceChildren(...shown.map((d) =>
      el('tr', { 'data-dev-eui': d.dev_eui },
        el('td', {}, d.name), el('td', { class: 'mono' }, d.dev_eui), el('td', {}, d.profile),
        el('td', { title: d.last_seen || '' }, ago(d.last_seen)), el('td', { class: 'num' }, battery(d)),
        el('td', { class: 'num' }, num(d.rssi, 0)), el('td', { class: 'num' }, num(d.snr, 1)),
        el('td', { class: 'num' }, d.f_cnt ?? '–'), el('td', { class: 'num' }, d.uplinks),
        el('td', { class: d.codec_errors > 0 ? 'num bad' : 'num' }, d.codec_errors))));
    const silent = devices.filter((d) => !d.last_seen).length;
    document.getElementById('devices-summary').textContent =
      `${shown.length} of ${devices.length} devices${silent ? `, ${silent} never heard` : ''}`;
  }
  async function refresh() {
    try {
      devices = (await api('/api/devices/status')).devices;
      devices.sort((a, b) => (b.last_seen || '').localeCompare(a.last_seen || '') || a.name.localeCompare(b.name));
      render();
      banner('');
    } catch (e) {
      banner(`Devices could not be loaded: ${e.message}`);
    }
  }
  document.getElementById('filter').addEventListener('input', render);
  refresh();
  stream(debounce(refresh, 2000));
})();
