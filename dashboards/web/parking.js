// Parking: each zone's free/occupied/unknown counts and its spots as a grid, refreshed when an uplink arrives.
'use strict';
(() => {
  const { el, api, banner, stream, debounce, ago } = Schwebe;
  Schwebe.layout();

  const spotOrder = (a, b) => a.spot.localeCompare(b.spot, undefined, { numeric: true });

  function zoneCard(zone, spots) {
    const total = zone.total || 1;
    return el('section', { class: 'card zone', 'data-zone': zone.zone, 'data-free': zone.free,
                            'data-occupied': zone.occupied, 'data-unknown': zone.unknown, 'data-total': zone.total },
      el('h2', {}, zone.zone),
      el('div', { class: 'counts' },
        el('span', { class: 'free', 'data-count': 'free' }, `${zone.free} free`),
        el('span', { class: 'occupied', 'data-count': 'occupied' }, `${zone.occupied} occupied`),
        el('span', { class: 'unknown', 'data-count': 'unknown' }, `${zone.unknown} unknown`)),
      el('div', { class: 'bar', 'aria-hidden': 'true' },
        el('div', { class: 'free', style: `width:${(100 * zone.free) / total}%` }),
        el('div', { class: 'occupied', style: `width:${(100 * zone.occupied) / total}%` })),
      el('div', { class: 'spots' }, spots.sort(spotOrder).map((s) =>
        el('div', { class: 'spot', 'data-zone': s.zone, 'data-spot': s.spot, 'data-status': s.status,
                    title: `${s.zone} ${s.spot}: ${s.status} since ${Schwebe.time(s.since)} (last heard ${ago(s.last_seen)})` },
          s.spot))));
  }

  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    try {
      const [{ zones }, { spots }] = await Promise.all([api('/api/parking/zones'), api('/api/parking/spots')]);
      if (mine !== generation) return;  // a newer refresh is on its way
      const byZone = new Map();
      for (const s of spots) {
        if (!byZone.has(s.zone)) byZone.set(s.zone, []);
        byZone.get(s.zone).push(s);
      }
      document.getElementById('zones').replaceChildren(...zones.map((z) => zoneCard(z, byZone.get(z.zone) || [])));
      const free = zones.reduce((n, z) => n + z.free, 0);
      const total = zones.reduce((n, z) => n + z.total, 0);
      const summary = document.getElementById('parking-summary');
      summary.textContent = zones.length === 0
        ? 'No parking sensors have reported yet.'
        : `${free} of ${total} spots free in ${zones.length} zones · updated ${Schwebe.time(new Date().toISOString())}`;
      document.body.dataset.updated = String(Date.now());
      banner('');
    } catch (e) {
      banner(`Parking could not be loaded: ${e.message}`);
    }
  }

  const soon = debounce(refresh, 300);
  refresh();
  stream(() => soon());
  setInterval(refresh, 30000);  // also when the stream is down, and for spots turning unknown
})();
