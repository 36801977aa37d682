// Gateways: online or offline, last seen, frames received, location and the last statistics.
'use strict';
(() => {
  const { el, api, banner, ago, num } = Schwebe;
  Schwebe.layout();

  async function refresh() {
    try {
      const { gateways } = await api('/api/gateways');
      const stat = (g, k) => (g.last_stats && g.last_stats[k] !== undefined ? num(g.last_stats[k], 0) : '–');
      document.querySelector('#gateways tbody').replaceChildren(...gateways.map((g) =>
        el('tr', { 'data-gateway-id': g.gateway_id, 'data-online': String(g.online) },
          el('td', {}, g.name ? `${g.name} ` : '', el('span', { class: 'mono muted' }, g.gateway_id)),
          el('td', {}, el('span', { class: `dot ${g.online ? 'online' : 'offline'}` }), g.online ? 'online' : 'offline'),
          el('td', { title: g.last_seen || '' }, ago(g.last_seen)),
          el('td', { class: 'num' }, num(g.frames_received, 0)),
          el('td', {}, g.location ? `${num(g.location.latitude, 5)}, ${num(g.location.longitude, 5)}` : '–'),
          el('td', { class: 'num' }, stat(g, 'rx_ok')), el('td', { class: 'num' }, stat(g, 'tx_emitted')))));
      const online = gateways.filter((g) => g.online).length;
      document.getElementById('gateways-summary').textContent = `${online} of ${gateways.length} gateways online`;
      banner('');
    } catch (e) {
      banner(`Gateways could not be loaded: ${e.message}`);
    }
  }
  refresh();
  setInterval(refresh, 15000);
})();
