// Live: the latest uplinks, newest first, then each new one as the stream delivers it.
'use strict';
(() => {
  const { el, api, banner, stream, time, num } = Schwebe;
  Schwebe.layout();
  const list = document.getElementById('uplinks');
  const keep = 200;
  const seen = new Set();

  function item(u) {
    const radio = `RSSI ${num(u.rssi, 0)} dBm · SNR ${num(u.snr, 1)} dB · ${u.gateways} gateway${u.gateways === 1 ? '' : 's'}`;
    return el('li', { 'data-id': u.id, 'data-dev-eui': u.dev_eui },
      el('div', {}, el('strong', {}, u.device_name || u.dev_eui), ' ', el('span', { class: 'mono muted' }, u.dev_eui)),
      el('div', { class: 'muted' }, `${time(u.time)} · FCnt ${u.f_cnt} · FPort ${u.f_port ?? '–'} · DR${u.dr} · ${radio}`),
      u.object ? el('div', { class: 'object mono' }, JSON.stringify(u.object)) : null);
  }
  function add(u, atTop) {
    if (seen.has(u.id)) return;
    seen.add(u.id);
    if (atTop) list.prepend(item(u)); else list.append(item(u));
    while (list.children.length > keep) list.lastElementChild.remove();
  }

  api('/api/uplinks?limit=50')
    .then(({ uplinks }) => { for (const u of uplinks) add(u, false); })
    .catch((e) => banner(`Uplinks could not be loaded: ${e.message}`));
  stream((u) => add(u, true));
})();
