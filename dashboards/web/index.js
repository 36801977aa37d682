// Overview: free parking, devices heard, gateways online, uplinks arriving.
'use strict';
(() => {
  const { api, banner, stream, num } = Schwebe;
  Schwebe.layout();
  const set = (id, text) => { document.getElementById(id).textContent = text; };

  async function refresh() {
    try {
      const [{ zones }, { devices }, { gateways }] = await Promise.all([
        api('/api/parking/zones'), api('/api/devices/status'), api('/api/gateways')]);
      const free = zones.reduce((n, z) => n + z.free, 0);
      const total = zones.reduce((n, z) => n + z.total, 0);
      set('parking-free', num(free, 0));
      set('parking-detail', `free of ${total} spots in ${zones.length} zones`);
      const heard = devices.filter((d) => d.last_seen).length;
      set('devices-count', num(devices.length, 0));
      set('devices-detail', `devices, ${heard} heard`);
      set('gateways-online', `${gateways.filter((g) => g.online).length} / ${gateways.length}`);
      set('gateways-detail', 'gateways online');
      banner('');
    } catch (e) {
      banner(`Overview could not be loaded: ${e.message}`);
    }
  }
  let uplinks = 0;
  refresh();
  stream(() => set('uplinks-live', num(++uplinks, 0)));
  setInterval(refresh, 30000);
})();
