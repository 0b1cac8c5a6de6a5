/**
 * The vigil-api monitor page in headless Chromium.
 *  1. Served by a real ApiServer over a SystemHub with a small alarm and a frame source
 *     (token auth on): live video from /raw-video, the state, "silenced" after pressing
 *     Silence (a real command round trip), test alert, metrics.
 *  2. The whole reference app in Node-RED — the "Camera alarm" demo tab (camera-sim →
 *     vigil-camera → vigil-motion → vigil-alarm → telegram/siren stand-ins, vigil-api),
 *     deployed with Node-RED and its simulators on port 0 (test/helpers/demo-rig.ts) — seen through the monitor page:
 *     live camera frames, state, Silence. Saves test-results/monitor.png (copied to
 *     docs/monitor.png for the README when VIGIL_UPDATE_DOCS=1).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { systemClock } from '../../lib/common/clock';
import { SystemHub } from '../../lib/system/hub';
import { ApiServer } from '../../lib/api/server';
import { serverSection } from '../../lib/api/section';
import { launchBrowser } from '../helpers/browser';
import { startDemoRig, type DemoRig } from '../helpers/demo-rig';
import { repoRoot } from '../helpers/nodered';
import type { RunningNodeRed } from '../helpers/nodered-env';
import { FakeAlarm, plainMember } from '../lib/api/helpers';

/** A grey 640×360 scene with a bright square at `x` (what vigil-camera/motion would publish). */
async function frame(x: number): Promise<Buffer> {
  const w = 640;
  const h = 360;
  const px = Buffer.alloc(w * h, 60);
  for (let y = 140; y < 220; y++) for (let i = 0; i < 80; i++) px[y * w + ((x + i) % w)] = 220;
  return sharp(px, { raw: { width: w, height: h, channels: 1 } }).jpeg({ quality: 80 }).toBuffer();
}

describe('monitor page (vigil-api, Chromium)', function () {
  let hub: SystemHub;
  let alarm: FakeAlarm;
  let api: ApiServer;
  let browser: Browser;
  let page: Page;
  let url: string;
  let feeder: NodeJS.Timeout | undefined;
  let metricsFeeder: NodeJS.Timeout | undefined;
  const pageErrors: string[] = [];

  before(async function () {
    hub = new SystemHub({ name: 'monitor-test' });
    alarm = new FakeAlarm(hub, systemClock);
    alarm.initialAlarm = Date.now() / 1000 - 125; // an alarm cluster started 2 min ago
    let port = 0;
    hub.register(serverSection(() => ({ host: '127.0.0.1', port })));
    hub.register(plainMember('alerters.telegram', { enabled: true, test_grp: true, api_key: 'x', chat_ids: ['1'] }, ['api_key']));
    api = new ApiServer({ hub, token: 'night-shift' });
    port = await api.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${port}/?access_token=night-shift`;
    const frames = await Promise.all(Array.from({ length: 12 }, (_, i) => frame(i * 50)));
    let n = 0;
    feeder = setInterval(() => {
      hub.publishFrame(frames[n % frames.length], { seq: n, width: 640, height: 360, timestamp: Date.now() });
      n++;
    }, 100);
    metricsFeeder = setInterval(() => hub.publishMetrics({ loopAvgS: 0.004 + Math.random() * 0.002, loopMaxS: 0.008, loopMinS: 0.003, frames: 2, engine: 'sharp' }), 1000);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 412, height: 915 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async function () {
    if (feeder) clearInterval(feeder);
    if (metricsFeeder) clearInterval(metricsFeeder);
    await browser?.close();
    await api?.close();
    alarm?.stop();
    hub?.dispose();
  });

  it('shows live video and the state, silences on a button press, draws metrics', async function () {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state === 'on', undefined, { timeout: 30000 });
    assert.equal(await page.locator('#link').getAttribute('data-up'), 'true');
    assert.match(await page.locator('#since').innerText(), /initial alarm 2:0\d ago/);
    // live frames keep arriving
    await page.waitForFunction(() => Number(document.getElementById('video')?.dataset.frames || 0) >= 3, undefined, { timeout: 30000 });
    const first = Number(await page.locator('#video').getAttribute('data-frames'));
    await page.waitForFunction((f) => Number(document.getElementById('video')?.dataset.frames || 0) > f + 2, first, { timeout: 30000 });
    // the size the page recorded when the frame decoded (naturalWidth of the <img> itself reads
    // 0 if a newer frame is mid-swap at the moment of asking)
    assert.equal(await page.locator('#video').getAttribute('data-size'), '640x360');
    assert.equal(await page.locator('#video').getAttribute('data-bad'), null, 'no undecodable frame');

    // silence for 20 minutes
    await page.locator('#minutes').fill('20');
    await page.locator('#silence').click();
    await page.waitForFunction(() => document.body.dataset.state === 'silenced', undefined, { timeout: 30000 });
    assert.match(await page.locator('#reply').innerText(), /silence 20 min: OK/);
    assert.equal(alarm.commands.at(-1)?.data.silenceFor, 1200);
    assert.match(await page.locator('#till').innerText(), /silenced for (20:00|19:5\d) more/);

    // test alert
    await page.locator('#test').click();
    await page.waitForFunction(() => /test alert: OK/.test(document.getElementById('reply')?.textContent || ''), undefined, { timeout: 30000 });
    assert.deepEqual(alarm.tests.at(-1), { excluded: [] });

    await page.waitForFunction(() => Number(document.getElementById('spark')?.dataset.samples || 0) >= 4, undefined, { timeout: 30000 });
    assert.match(await page.locator('#metrics').innerText(), /CPU .*% .* sockets/);

    const results = path.join(repoRoot, 'test-results');
    fs.mkdirSync(results, { recursive: true });
    await page.screenshot({ path: path.join(results, 'monitor-standalone.png'), fullPage: true });

    // unsilence goes back to on
    await page.locator('#unsilence').click();
    await page.waitForFunction(() => document.body.dataset.state === 'on', undefined, { timeout: 30000 });
    assert.deepEqual(pageErrors, []);
  });

  it('refuses the page without the token', async function () {
    const r = await fetch(url.replace(/\?.*$/, ''));
    assert.equal(r.status, 401);
  });
});

describe('monitor page on the Camera alarm demo (Node-RED + simulators, Chromium)', function () {
  let browser: Browser;
  let nr: RunningNodeRed;
  let rig: DemoRig;
  let apiPort = 0;
  const pageErrors: string[] = [];

  before(async function () {
    // The demo tab moved onto the ports of this rig (Node-RED and the simulators on port 0).
    rig = await startDemoRig({ prefix: 'vigil-monitor-' });
    nr = rig.nr;
    apiPort = rig.ports.get(9876) ?? 0;
    assert.ok(apiPort > 0, 'the demo\'s vigil-api port was moved');
    const flows = JSON.parse(rig.move(fs.readFileSync(path.join(repoRoot, 'examples', 'demo', 'Camera alarm.json'), 'utf8'))) as unknown[];
    // Deploy through the admin API, as the editor does (credentials travel with the flow).
    const r = await fetch(`${nr.url}flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.ok(r.ok, `deploy failed: ${r.status}`);
    browser = await launchBrowser();
  });

  after(async function () {
    await browser?.close();
    await rig?.stop();
  });

  it('shows the live camera, the state, and silences the real alarm', async function () {
    const page = await browser.newPage({ viewport: { width: 412, height: 915 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // The API starts listening once the flow is up.
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${apiPort}/health`)).ok) break;
      } catch {
        if (i > 600) throw new Error(`vigil-api did not come up:\n${nr.lines.slice(-30).join('\n')}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    await page.goto(`http://127.0.0.1:${apiPort}/`);
    await page.waitForFunction(() => ['on', 'alarm'].includes(document.body.dataset.state || ''), undefined, { timeout: 60000 });
    await page.waitForFunction(() => Number(document.getElementById('video')?.dataset.frames || 0) >= 10, undefined, { timeout: 60000 });
    assert.match((await page.locator('#video').getAttribute('data-size')) || '', /^[1-9]\d*x[1-9]\d*$/, 'a decoded camera frame');
    assert.equal(await page.locator('#video').getAttribute('data-bad'), null, 'no undecodable frame');
    await page.waitForFunction(() => Number(document.getElementById('spark')?.dataset.samples || 0) >= 5, undefined, { timeout: 60000 });
    await page.locator('#silence').click(); // the default 15 min
    await page.waitForFunction(() => document.body.dataset.state === 'silenced', undefined, { timeout: 30000 });
    assert.match(await page.locator('#reply').innerText(), /silence 15 min: OK/);
    const results = path.join(repoRoot, 'test-results');
    fs.mkdirSync(results, { recursive: true });
    const shot = path.join(results, 'monitor.png');
    await page.screenshot({ path: shot, fullPage: true });
    // The README's copy is refreshed only on request (VIGIL_UPDATE_DOCS=1 npm run test:browser),
    // so a test run never dirties the work tree.
    if (process.env.VIGIL_UPDATE_DOCS) {
      fs.mkdirSync(path.join(repoRoot, 'docs'), { recursive: true });
      fs.copyFileSync(shot, path.join(repoRoot, 'docs', 'monitor.png'));
    }
    await page.locator('#unsilence').click();
    await page.waitForFunction(() => ['on', 'alarm'].includes(document.body.dataset.state || ''), undefined, { timeout: 30000 });
    assert.deepEqual(pageErrors, []);
    const problems = nr.lines.filter((l) => /\[error\]|unknown type|TypeError|ReferenceError|Unhandled/i.test(l));
    assert.deepEqual(problems, [], 'Node-RED logged errors');
    await page.close();
  });
});
