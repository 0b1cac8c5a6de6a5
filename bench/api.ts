/**
 * vigil-api fan-out: status at 1 Hz to 500 websocket clients on `/` and `/raw-video` at
 * 10 fps to 20 clients of which one never reads, for a fixed number of seconds. Reports
 * missed ticks (status messages a client never got), p50/p99 delivery latency (publish →
 * client `message` event, same process, loopback), frames dropped for the stalled client,
 * the bytes queued for it, and RSS. The baseline is a bare `ws` broadcast server (no cap,
 * no ping, no per-client bookkeeping) fed the same way in the same run.
 *
 * Bounded: about 4 × (connect + SECONDS + 1) s, two interleaved rounds. Loopback only.
 */
import http from 'node:http';
import type net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SystemHub } from '../lib/system/hub';
import { ApiServer } from '../lib/api/server';

const STATUS_CLIENTS = 500;
const VIDEO_CLIENTS = 20;
const SECONDS = 8;
const FPS = 10;
const FRAME_BYTES = 100 * 1024; // a 640×480 grey JPEG at quality 95 is about 50–100 KB

interface Target {
  name: string;
  port: number;
  publishStatus(json: string, obj: object): void;
  publishFrame(jpeg: Buffer): void;
  stalledQueued(): number;
  dropped(): number;
  close(): Promise<void>;
}

interface Figures {
  name: string;
  missedTicks: number;
  statusP50: number;
  statusP99: number;
  framesExpected: number;
  framesMissedHealthy: number;
  frameP50: number;
  frameP99: number;
  dropped: number;
  stalledQueuedKiB: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  lateTicks: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function jpeg(seq: number): Buffer {
  const b = Buffer.alloc(FRAME_BYTES, seq & 0xff);
  b[0] = 0xff;
  b[1] = 0xd8;
  b.writeUInt32BE(seq, 2);
  b[b.length - 2] = 0xff;
  b[b.length - 1] = 0xd9;
  return b;
}

const rssMiB = (): number => process.memoryUsage().rss / 1048576;

async function connectAll(url: string, n: number): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  // in batches, so the accept queue is not flooded
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      })),
    );
    out.push(...batch);
  }
  return out;
}

async function measure(t: Target): Promise<Figures> {
  const rssStart = rssMiB();
  let rssPeak = rssStart;
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMiB());
  }, 100);

  const statusSent = new Map<number, number>(); // seq → hrtime ms
  const frameSent = new Map<number, number>();
  const statusLat: number[] = [];
  const frameLat: number[] = [];
  const now = (): number => Number(process.hrtime.bigint()) / 1e6;

  const roots = await connectAll(`ws://127.0.0.1:${t.port}/`, STATUS_CLIENTS);
  const videos = await connectAll(`ws://127.0.0.1:${t.port}/raw-video`, VIDEO_CLIENTS);
  const stalled = videos[VIDEO_CLIENTS - 1];
  (stalled as unknown as { _socket: net.Socket })._socket.pause();
  const statusGot = roots.map(() => 0);
  const framesGot = videos.map(() => 0);
  roots.forEach((ws, i) =>
    ws.on('message', (d: Buffer) => {
      const seq = (JSON.parse(d.toString()) as { seq: number }).seq;
      const sent = statusSent.get(seq);
      if (sent !== undefined) statusLat.push(now() - sent);
      statusGot[i]++;
    }),
  );
  videos.forEach((ws, i) =>
    ws.on('message', (d: Buffer) => {
      const sent = frameSent.get(d.readUInt32BE(2));
      if (sent !== undefined) frameLat.push(now() - sent);
      framesGot[i]++;
    }),
  );

  let ticks = 0;
  let frames = 0;
  let lateTicks = 0;
  const t0 = now();
  await new Promise<void>((resolve) => {
    const statusTimer = setInterval(() => {
      const due = t0 + (ticks + 1) * 1000;
      if (now() - due > 100) lateTicks++; // the 1 Hz tick itself came > 100 ms late
      ticks++;
      const obj = { timeStamp: Date.now() / 1000, state: 'on', initialAlarm: 0, silencedTill: null, seq: ticks };
      statusSent.set(ticks, now());
      t.publishStatus(JSON.stringify(obj), obj);
      if (ticks >= SECONDS) {
        clearInterval(statusTimer);
        clearInterval(frameTimer);
        setTimeout(resolve, 1000); // let the last messages arrive
      }
    }, 1000);
    const frameTimer = setInterval(() => {
      frames++;
      frameSent.set(frames, now());
      t.publishFrame(jpeg(frames));
    }, 1000 / FPS);
  });
  clearInterval(rssTimer);

  const expectedStatus = ticks * STATUS_CLIENTS;
  const gotStatus = statusGot.reduce((a, b) => a + b, 0);
  const healthyMissed = framesGot.slice(0, VIDEO_CLIENTS - 1).reduce((a, got) => a + (frames - got), 0);
  statusLat.sort((a, b) => a - b);
  frameLat.sort((a, b) => a - b);
  const fig: Figures = {
    name: t.name,
    missedTicks: expectedStatus - gotStatus,
    statusP50: pct(statusLat, 50),
    statusP99: pct(statusLat, 99),
    framesExpected: frames * (VIDEO_CLIENTS - 1),
    framesMissedHealthy: healthyMissed,
    frameP50: pct(frameLat, 50),
    frameP99: pct(frameLat, 99),
    dropped: t.dropped(),
    stalledQueuedKiB: t.stalledQueued() / 1024,
    rssStartMiB: rssStart,
    rssPeakMiB: rssPeak,
    lateTicks,
  };
  for (const ws of [...roots, ...videos]) ws.terminate();
  await t.close();
  return fig;
}

/** The baseline: a bare ws broadcast (what a naive implementation does). */
async function bareWs(): Promise<Target> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  const rootClients = new Set<WebSocket>();
  const videoClients = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    const set = req.url === '/raw-video' ? videoClients : rootClients;
    set.add(ws);
    ws.on('close', () => set.delete(ws));
    ws.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    name: 'bare ws broadcast (baseline)',
    port: (server.address() as { port: number }).port,
    publishStatus: (json) => rootClients.forEach((ws) => ws.send(json)),
    publishFrame: (buf) => videoClients.forEach((ws) => ws.send(buf)),
    stalledQueued: () => Math.max(0, ...[...videoClients].map((ws) => ws.bufferedAmount)),
    dropped: () => 0,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function vigil(): Promise<Target> {
  const hub = new SystemHub({ name: 'bench' });
  const api = new ApiServer({ hub, staticDir: null });
  const port = await api.listen(0, '127.0.0.1');
  return {
    name: 'vigil-api (cap 1 MiB/client)',
    port,
    publishStatus: (_json, obj) => hub.publishStatus(obj as never),
    publishFrame: (buf) => hub.publishFrame(buf, { seq: 0, width: 640, height: 480, timestamp: Date.now() }),
    stalledQueued: () => Math.max(0, ...api.buffered('video')),
    dropped: () => api.stats().dropped,
    close: async () => {
      await api.close();
      hub.dispose();
    },
  };
}

function row(f: Figures): string {
  const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
  return [
    f.name.padEnd(30),
    String(f.missedTicks).padStart(7),
    `${ms(f.statusP50)}/${ms(f.statusP99)}`.padStart(13),
    String(f.framesMissedHealthy).padStart(9),
    `${ms(f.frameP50)}/${ms(f.frameP99)}`.padStart(13),
    String(f.dropped).padStart(8),
    f.stalledQueuedKiB.toFixed(0).padStart(10),
    `${f.rssStartMiB.toFixed(0)}→${f.rssPeakMiB.toFixed(0)}`.padStart(10),
    String(f.lateTicks).padStart(5),
  ].join(' ');
}

export async function run(): Promise<void> {
  console.log(`status 1 Hz → ${STATUS_CLIENTS} clients on /, ${FRAME_BYTES / 1024} KiB frames at ${FPS} fps → ${VIDEO_CLIENTS} /raw-video clients (1 never reads), ${SECONDS} s each, same process, loopback`);
  const results: Figures[] = [];
  // Two interleaved rounds, so neither side always runs on the other's garbage.
  for (let round = 0; round < 2; round++) {
    results.push(await measure(await bareWs()));
    results.push(await measure(await vigil()));
  }
  console.log(
    [
      'server'.padEnd(30),
      'missed'.padStart(7),
      'status ms'.padStart(13),
      'frm miss'.padStart(9),
      'frame ms'.padStart(13),
      'dropped'.padStart(8),
      'stall KiB'.padStart(10),
      'RSS MiB'.padStart(10),
      'late'.padStart(5),
    ].join(' '),
  );
  for (const f of results) console.log(row(f));
  console.log('missed = status messages (of ticks × clients) never delivered; status/frame ms = p50/p99 publish→client latency;');
  console.log('frm miss = frames the 19 healthy viewers missed; dropped = frames skipped for the stalled viewer; stall KiB = bytes queued for it at the end;');
  console.log('late = 1 Hz ticks that fired > 100 ms late (event-loop stall).');
}

if (require.main === module) {
  run().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
