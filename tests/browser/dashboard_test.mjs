// The dashboard in a real browser (issue: onboarding and the city's view). A fresh `schwebe serve` is fed the
// shipped Wuppertal day (tests/scenarios/wuppertal-day) with `schwebe replay`; headless Chromium, driven by
// playwright-core, then checks the pages against the scenario's ground truth (truth.json, written by the simulator
// when it recorded the day, not by the server):
//   - parking: every zone's free/occupied/unknown counts and every spot's state;
//   - a parking sensor that reports a change (a frame built here with `schwebe frame encode`, sent as a gateway
//     would) changes its spot and its zone's counts on the open page, without a reload (the live stream);
//   - environment: the chart of a sensor's temperature draws one point per stored reading;
//   - energy, gateways, devices, live and the overview show what the day left;
// and saves a screenshot of each page. No page may throw a JavaScript error.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import assert from 'node:assert/strict';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const { chromium } = createRequire(path.join(args.deps, 'package.json'))('playwright-core');

const truth = JSON.parse(fs.readFileSync(path.join(args.scenario, 'truth.json'), 'utf8'));
const csv = fs.readFileSync(path.join(args.scenario, 'devices.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const header = csv.shift();
const devices = csv.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])));
fs.mkdirSync(args.screenshots, { recursive: true });

let failures = 0;
let checks = 0;
function check(what, fn) {
  checks += 1;
  try {
    fn();
  } catch (e) {
    failures += 1;
    console.error(`FAIL ${what}: ${e.message}`);
  }
}
const log = (...m) => console.log('--', ...m);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schwebe-browser-'));
const config = path.join(dir, 'schwebe.toml');
fs.writeFileSync(config, [
  '[storage]', `sqlite_path = "${path.join(dir, 'schwebe.db')}"`, 'retention_days = 0',
  '[bridge]', 'udp_bind = "127.0.0.1:0"', 'store_flush_interval_s = 1',
  '[mqtt]', 'enabled = false',
  '[api]', 'bind = "127.0.0.1:0"',
  '[network_server]', 'dedup_window_ms = 200',
  '[log]', 'level = "info"', ''].join('\n'));
const schwebe = (...a) => execFileSync(args.schwebe, ['--config', config, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// The city's profiles and devices, as `schwebe sim` defines them (the same city the capture was recorded from).
schwebe('sim', '--provision', '--provision-only', '--server', '127.0.0.1:1700');  // no traffic is sent

const serveLog = path.join(dir, 'serve.log');
const serveFd = fs.openSync(serveLog, 'w');
const serve = spawn(args.schwebe, ['--config', config, 'serve'], { stdio: ['ignore', serveFd, serveFd] });
const serveExit = new Promise((resolve) => serve.on('exit', (code, signal) => resolve({ code, signal })));
let server = null;
try {
  const [udpPort, httpPort] = await waitFor(() => {
    const text = fs.readFileSync(serveLog, 'utf8');
    const udp = /gateway bridge listening"? udp_bind=127\.0\.0\.1:(\d+)/.exec(text);
    const http = /HTTP API and dashboard listening"? api_bind=127\.0\.0\.1:(\d+)/.exec(text);
    return udp && http ? [Number(udp[1]), Number(http[1])] : null;
  }, 20000, 'schwebe serve to listen');
  server = `http://127.0.0.1:${httpPort}`;
  log(`serve: UDP ${udpPort}, HTTP ${httpPort}`);

  const capture = path.join(dir, 'capture.jsonl');
  fs.writeFileSync(capture, zlib.gunzipSync(fs.readFileSync(path.join(args.scenario, 'capture.jsonl.gz'))));
  log('replaying the Wuppertal day at 2x');
  schwebe('replay', capture, '--server', `127.0.0.1:${udpPort}`, '--speed', '2', '--linger-ms', '2000');

  const browser = await chromium.launch({
    executablePath: args.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  const requests = [];
  context.on('page', () => {});
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  const shot = (name) => page.screenshot({ path: path.join(args.screenshots, `${name}.png`), fullPage: true });

  // ---- parking ----
  const zones = Object.keys(truth.zones).sort();
  await page.goto(`${server}/parking.html`);
  await page.waitForFunction((n) => document.querySelectorAll('.zone').length === n, zones.length, { timeout: 15000 });
  const shown = await page.evaluate(() => [...document.querySelectorAll('.zone')].map((z) => ({
    zone: z.dataset.zone, free: Number(z.dataset.free), occupied: Number(z.dataset.occupied),
    unknown: Number(z.dataset.unknown), total: Number(z.dataset.total),
    text: z.querySelector('.counts').textContent,
    spots: Object.fromEntries([...z.querySelectorAll('.spot')].map((s) => [s.dataset.spot, s.dataset.status])),
  })));
  check('parking: the zones shown are the zones of the day', () => assert.deepEqual(shown.map((z) => z.zone).sort(), zones));
  for (const z of shown) {
    const want = truth.zones[z.zone];
    check(`parking: ${z.zone} counts`, () => assert.deepEqual(
      { free: z.free, occupied: z.occupied, unknown: z.unknown, total: z.total }, want));
    check(`parking: ${z.zone} counts as text`, () => assert.match(z.text, new RegExp(`${want.free} free.*${want.occupied} occupied.*${want.unknown} unknown`)));
    check(`parking: ${z.zone} spots`, () => assert.deepEqual(z.spots, truth.spots[z.zone]));
  }
  await shot('parking');

  // A sensor reports its spot changed: the page follows without a reload.
  const zone = zones[0];
  const spot = '1';
  const before = truth.spots[zone][spot];
  const after = before === 'occupied' ? 'free' : 'occupied';
  const sensor = devices.find((d) => d.zone === zone && d.spot === spot);
  assert.ok(sensor, `a sensor for ${zone} ${spot} in devices.csv`);
  const status = await (await fetch(`${server}/api/devices/status`)).json();
  const last = status.devices.find((d) => d.dev_eui === sensor.dev_eui);
  // NPS405 parking status (FPort 1): bit 0 occupied, bits 7..1 the previous state's duration in minutes (here 10).
  const payload = ((10 << 1) | (after === 'occupied' ? 1 : 0)).toString(16).padStart(2, '0');
  const frame = JSON.parse(execFileSync(args.schwebe, ['frame', 'encode'], {
    encoding: 'utf8',
    input: JSON.stringify({ m_type: 'unconfirmed_data_up', dev_addr: sensor.dev_addr, f_cnt: last.f_cnt + 1, f_port: 1,
                            frm_payload: payload, nwk_s_key: sensor.nwk_s_key, app_s_key: sensor.app_s_key }),
  })).phy_payload;
  await pushData(udpPort, '0016c001f1570001', Buffer.from(frame, 'hex'));
  log(`${zone} ${spot} (${sensor.dev_eui}) reports ${after}`);
  await page.waitForFunction(([z, s, want]) => {
    const el = document.querySelector(`.spot[data-zone="${z}"][data-spot="${s}"]`);
    return el && el.dataset.status === want;
  }, [zone, spot, after], { timeout: 20000 }).catch(() => {});
  const changed = await page.evaluate(([z, s]) => {
    const card = document.querySelector(`.zone[data-zone="${z}"]`);
    return { status: card.querySelector(`.spot[data-spot="${s}"]`).dataset.status,
             free: Number(card.dataset.free), occupied: Number(card.dataset.occupied) };
  }, [zone, spot]);
  const delta = after === 'free' ? 1 : -1;
  check('parking: the changed spot is shown changed, live', () => assert.deepEqual(changed, {
    status: after, free: truth.zones[zone].free + delta, occupied: truth.zones[zone].occupied - delta }));
  await shot('parking-changed');

  // ---- environment ----
  const env = Object.entries(truth.devices)
    .filter(([eui]) => devices.find((d) => d.dev_eui === eui && d.tags.includes('kind=environment')))
    .sort((a, b) => (b[1].readings.temperature || 0) - (a[1].readings.temperature || 0))[0];
  const [envEui, envTruth] = env;
  await page.goto(`${server}/environment.html?quantity=temperature&dev_eui=${envEui}&range=all`);
  await page.waitForFunction((eui) => document.getElementById('chart').dataset.devEui === eui, envEui, { timeout: 15000 });
  const drawn = await page.evaluate(() => ({
    points: document.querySelectorAll('#chart circle.point').length,
    attr: Number(document.getElementById('chart').dataset.points),
    line: document.querySelector('#chart polyline.line') !== null,
  }));
  check(`environment: one point per stored temperature reading of ${envEui}`, () => assert.deepEqual(drawn,
    { points: envTruth.readings.temperature, attr: envTruth.readings.temperature, line: true }));
  await shot('environment');
  await page.selectOption('#quantity', 'co2');
  await page.waitForFunction(() => document.getElementById('chart').dataset.quantity === 'co2', null, { timeout: 15000 });
  const co2Eui = await page.evaluate(() => document.getElementById('chart').dataset.devEui);
  const co2Points = await page.evaluate(() => document.querySelectorAll('#chart circle.point').length);
  check('environment: CO2 of the first sensor, every reading', () => assert.equal(co2Points, truth.devices[co2Eui].readings.co2));
  await shot('environment-co2');

  // ---- energy ----
  const meters = Object.entries(truth.devices).filter(([, d]) => d.readings.heat_energy);
  await page.goto(`${server}/energy.html`);
  await page.waitForFunction((n) => document.querySelectorAll('.meter').length === n, meters.length, { timeout: 20000 })
    .catch(() => {});
  const energy = await page.evaluate(() => ({
    meters: document.querySelectorAll('.meter').length,
    bars: [...document.querySelectorAll('.meter svg')].map((s) => s.querySelectorAll('rect.column').length),
    totals: [...document.querySelectorAll('.total')].map((t) => t.dataset.quantity),
  }));
  check('energy: a card per heat meter, each with its days as bars', () => {
    assert.equal(energy.meters, meters.length);
    assert.ok(energy.bars.every((n) => n >= 1), `bars per meter: ${energy.bars}`);
    assert.deepEqual(energy.totals, ['heat_energy']);
  });
  await shot('energy');

  // ---- gateways, devices, live, overview ----
  await page.goto(`${server}/gateways.html`);
  await page.waitForFunction(() => document.querySelectorAll('#gateways tbody tr').length > 0, null, { timeout: 15000 });
  const gateways = await page.evaluate(() => [...document.querySelectorAll('#gateways tbody tr')].map((r) => r.dataset.online));
  check('gateways: the six gateways of the day, online', () => assert.deepEqual(gateways, Array(6).fill('true')));
  await shot('gateways');

  await page.goto(`${server}/devices.html`);
  await page.waitForFunction(() => document.querySelectorAll('#devices tbody tr').length > 0, null, { timeout: 15000 });
  const rows = await page.evaluate(() => document.querySelectorAll('#devices tbody tr').length);
  check('devices: every provisioned device is listed', () => assert.equal(rows, devices.length));
  await page.fill('#filter', sensor.dev_eui);
  const filtered = await page.evaluate(() => [...document.querySelectorAll('#devices tbody tr')].map((r) => r.dataset.devEui));
  check('devices: the filter finds one device by DevEUI', () => assert.deepEqual(filtered, [sensor.dev_eui]));
  await page.fill('#filter', '');
  await shot('devices');

  await page.goto(`${server}/live.html`);
  await page.waitForFunction(() => document.querySelectorAll('#uplinks li').length > 0, null, { timeout: 15000 });
  const newest = await page.evaluate(() => document.querySelector('#uplinks li').dataset.devEui);
  check('live: the newest uplink first (the sensor that just changed)', () => assert.equal(newest, sensor.dev_eui));
  await shot('live');

  await page.goto(`${server}/`);
  await page.waitForFunction(() => document.getElementById('parking-free').textContent !== '–', null, { timeout: 15000 });
  const free = await page.evaluate(() => document.getElementById('parking-free').textContent);
  const freeTotal = Object.values(truth.zones).reduce((n, z) => n + z.free, 0) + delta;
  check('overview: free spots of the city', () => assert.equal(free.replace(/\D/g, ''), String(freeTotal)));
  await page.setViewportSize({ width: 390, height: 844 });  // a phone
  await page.goto(`${server}/parking.html`);
  await page.waitForFunction(() => document.querySelectorAll('.zone').length > 0, null, { timeout: 15000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check('parking on a phone: no sideways scrolling', () => assert.ok(overflow <= 0, `${overflow} px too wide`));
  await shot('parking-phone');

  check('no page threw a JavaScript error', () => assert.deepEqual(errors, []));
  const foreign = requests.filter((u) => !u.startsWith(server));
  check('every asset is local (no request leaves the server)', () => assert.deepEqual(foreign, []));
  await browser.close();
} catch (e) {
  failures += 1;
  console.error(`FAIL ${e.stack || e.message}`);
} finally {
  serve.kill('SIGTERM');
  const { code } = await serveExit;
  check('schwebe serve stops cleanly', () => assert.equal(code, 0));
  if (failures) console.error(fs.readFileSync(serveLog, 'utf8').split('\n').filter((l) => /level=(warn|error)/.test(l)).slice(-20).join('\n'));
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`browser test: ${checks - failures} of ${checks} checks passed; screenshots in ${args.screenshots}`);
process.exit(failures ? 1 : 0);

async function waitFor(probe, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    let value = null;
    try { value = probe(); } catch (e) { value = null; }
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One Semtech PUSH_DATA with the frame as a gateway would send it; resolves on the server's PUSH_ACK. */
function pushData(port, gatewayEui, phy) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const token = Buffer.from([0x4b, 0x1d]);
    const rxpk = { rxpk: [{ tmst: 123456789, chan: 0, rfch: 0, freq: 868.1, stat: 1, modu: 'LORA', datr: 'SF7BW125',
                            codr: '4/5', rssi: -61, lsnr: 9.5, size: phy.length, data: phy.toString('base64') }] };
    const datagram = Buffer.concat([Buffer.from([0x02]), token, Buffer.from([0x00]), Buffer.from(gatewayEui, 'hex'),
                                    Buffer.from(JSON.stringify(rxpk))]);
    const timer = setTimeout(() => { socket.close(); reject(new Error('no PUSH_ACK')); }, 5000);
    socket.on('message', (m) => {
      if (m.length >= 4 && m[3] === 0x01 && m[1] === token[0] && m[2] === token[1]) {
        clearTimeout(timer);
        socket.close();
        resolve();
      }
    });
    socket.send(datagram, port, '127.0.0.1');
  });
}
