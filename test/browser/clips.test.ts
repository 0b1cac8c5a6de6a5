/**
 * Alarm clips on the vigil-api monitor page in headless Chromium: a real Recorder writes an
 * MP4 and an AVI clip from generated camera frames, its folder is the hub's clip store, and
 * the page (token auth on) lists both, plays the MP4 in its <video> element (readyState ≥ 2,
 * then a seek, which the browser does with range requests) and offers the AVI as a download.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { FakeClock } from '../../lib/common/clock';
import { findFfmpeg } from '../../lib/common/ffmpeg';
import { ApiServer } from '../../lib/api/server';
import { Recorder, type ClipResult } from '../../lib/recorder/recorder';
import { SystemHub } from '../../lib/system/hub';
import { launchBrowser } from '../helpers/browser';
import { clip, tempDir } from '../helpers/clips';

async function record(folder: string, format: 'mp4' | 'avi', start: number): Promise<ClipResult> {
  const frames = await clip('moving', { width: 640, height: 480, frames: 60 });
  const clock = new FakeClock(start);
  const rec = new Recorder({ folder, label: 'ward-b', preSeconds: 3, postSeconds: 3, format, ffmpeg: findFfmpeg().path, clock });
  const done = new Promise<ClipResult>((resolve, reject) => {
    rec.once('clip', resolve);
    rec.once('error', reject);
  });
  await rec.start();
  const feed = (n: number): void => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000 / 15);
      rec.frame(frames[i % frames.length]);
    }
  };
  feed(60);
  rec.alarm();
  feed(60);
  const c = await done;
  await rec.close(0);
  return c;
}

describe('monitor page: alarm clips (Chromium)', function () {
  let browser: Browser;
  let page: Page;
  let api: ApiServer;
  let hub: SystemHub;
  let cleanup: () => void;
  let mp4: ClipResult;
  let avi: ClipResult;
  let url: string;
  const pageErrors: string[] = [];

  before(async function () {
    const t = tempDir('vigil-clips-browser-');
    cleanup = t.cleanup;
    avi = await record(t.dir, 'avi', new Date(2026, 11, 6, 2, 0, 0).getTime());
    mp4 = await record(t.dir, 'mp4', new Date(2026, 11, 6, 3, 0, 0).getTime());
    hub = new SystemHub({ name: 'ward-b' });
    const store = new Recorder({ folder: t.dir, preSeconds: 0, postSeconds: 0 }).store;
    hub.registerClipStore(store);
    api = new ApiServer({ hub, token: 'night-shift' });
    const port = await api.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${port}/?access_token=night-shift`;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 412, height: 915 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async function () {
    await browser?.close();
    await api?.close();
    hub?.dispose();
    cleanup?.();
  });

  it('lists the clips newest first, plays the MP4 (readyState ≥ 2) and seeks in it; the AVI is a download', async function () {
    await page.goto(url);
    await page.waitForSelector('#clips-card:not([hidden]) #clips li', { timeout: 30_000 });
    const names = await page.$$eval('#clips li', (els) => els.map((e) => (e as HTMLElement).dataset.name));
    assert.deepEqual(names, [mp4.name, avi.name]);
    // the AVI (MJPEG) cannot play in a browser: a download link carrying the token
    const href = await page.$eval(`#clips li[data-name="${avi.name}"] a`, (a) => (a as HTMLAnchorElement).href);
    assert.match(href, new RegExp(`/clips/${avi.name}\\?access_token=night-shift$`));
    await page.click(`#clips li[data-name="${mp4.name}"] button`);
    await page.waitForFunction(() => (document.getElementById('player') as HTMLVideoElement).readyState >= 2, undefined, { timeout: 30_000 });
    const v = await page.$eval('#player', (el) => {
      const video = el as HTMLVideoElement;
      return { duration: video.duration, width: video.videoWidth, height: video.videoHeight, name: video.dataset.name };
    });
    assert.equal(v.name, mp4.name);
    assert.equal(v.width, 640);
    assert.equal(v.height, 480);
    assert.ok(Math.abs(v.duration - mp4.durationS) < 0.5, `duration ${v.duration} vs ${mp4.durationS}`);
    // seeking needs range requests (206)
    await page.$eval('#player', (el) => {
      const video = el as HTMLVideoElement;
      video.pause();
      video.currentTime = 4;
    });
    await page.waitForFunction(() => {
      const video = document.getElementById('player') as HTMLVideoElement;
      return !video.seeking && Math.abs(video.currentTime - 4) < 0.5 && video.readyState >= 2;
    }, undefined, { timeout: 30_000 });
    assert.equal(await page.$eval(`#clips li[data-name="${mp4.name}"]`, (li) => (li as HTMLElement).dataset.playing), 'true');
    assert.deepEqual(pageErrors, []);
  });
});
