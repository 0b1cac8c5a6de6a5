/**
 * The vigil-api monitor page in headless Chromium: served by a real ApiServer over a
 * SystemHub with a small alarm and a frame source. The page must show live video from
 * /raw-video, the state, change to "silenced" when Silence is pressed (a real command
 * round trip), and draw metrics. Saves test-results/monitor.png (copied to
 * docs/monitor.png for the README).
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
import { repoRoot } from '../helpers/nodered';
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
    const size = await page.locator('#video').evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    assert.deepEqual(size, [640, 360]);

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
    const shot = path.join(results, 'monitor.png');
    await page.screenshot({ path: shot, fullPage: true });
    fs.mkdirSync(path.join(repoRoot, 'docs'), { recursive: true });
    fs.copyFileSync(shot, path.join(repoRoot, 'docs', 'monitor.png'));

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
