/**
 * Isotel Service API benchmarks (loopback only, bounded in time):
 *
 * 1. Codec decode throughput (MB/s) on a realistic SIGNAL mix fed in 64 KiB socket-sized
 *    chunks: the package decoder as the client runs it (Framer + keyword + URI + body text,
 *    JSON parsed on demand) and with every body JSON-parsed, each beside a naive baseline
 *    doing the same work in the same run (string concat + split('\n\n') + regex [+ JSON.parse]).
 * 2. End-to-end SIGNAL rate: a loopback TCP "IoT" writes SIGNALs as fast as the receiver
 *    keeps up; measured at the service client's `signal` event, and as messages leaving an
 *    isotel-signal node in a real Node-RED runtime embedded in the process.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { IsotelClient } from '../lib/isotel/client';
import { encode, Frame, IsotelDecoder, IsotelMessage } from '../lib/isotel/codec';

const CHUNK = 64 * 1024;

/** ~`bytes` of traffic as the IoT sends it: mostly SIGNALs, some requests and CONNECT acks. */
function signalMix(bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  const uris = ['/me/device0/ec/E', '/me/device0/ec/T', '/me/device1/th/H', '/me/device12/power/P1', '/me/device3/io/in4'];
  while (size < bytes) {
    const uri = uris[i % uris.length];
    const field = uri.split('/').pop() as string;
    const t = (1444751862.112 + i * 0.25).toFixed(3);
    let s: string;
    const r = i % 50;
    if (r === 0) s = encode.request({ action: 'read', id: String(i) });
    else if (r === 1) s = encode.connectStatus(uri, true);
    else if (r < 10) s = `SIGNAL ${uri} {"status":"OK","time":"${t}"}\r\n\r\n`; // send_data:false, CRLF peer
    else s = encode.signal(uri, { status: 'OK', [field]: { value: (12 + Math.sin(i) * 3).toFixed(2) }, time: t });
    parts.push(s);
    size += Buffer.byteLength(s);
    i++;
  }
  return Buffer.from(parts.join(''));
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

/** Run `fn` repeatedly for about `ms`, return MB/s and messages/s. */
function measure(bytes: number, ms: number, fn: () => number): { mbps: number; msgps: number } {
  fn(); // warm up
  let runs = 0;
  let msgs = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    msgs += fn();
    runs++;
    t = performance.now();
  }
  const s = (t - t0) / 1000;
  return { mbps: (bytes * runs) / 1e6 / s, msgps: msgs / s };
}

/**
 * The codec as the service client runs it — frame, keyword, URI, body text (JSON parsed
 * later, on demand) — or, with `parsed`, with every body JSON-parsed at once (`decode`).
 */
function decodeWithCodec(parts: Buffer[], parsed = false): number {
  let n = 0;
  let sink = 0;
  const dec = new IsotelDecoder(
    parsed
      ? {
          onMessage: (m: IsotelMessage) => {
            n++;
            if (m.kind === 'signal') sink += m.uri.length;
          },
        }
      : {
          onFrame: (f: Frame) => {
            n++;
            sink += f.text.length;
          },
        },
  );
  for (const p of parts) dec.push(p);
  return sink >= 0 ? n : -1;
}

/**
 * The naive way: concatenate text, split on blank lines, regex the keyword; with `parseJson`
 * each body (a request: its whole text) goes through JSON.parse too.
 */
function decodeNaive(parts: Buffer[], parseJson = true): number {
  let n = 0;
  let sink = 0;
  let tail = '';
  for (const p of parts) {
    const text = (tail + p.toString('utf8')).replace(/\r\n/g, '\n');
    const msgs = text.split('\n\n');
    tail = msgs.pop() ?? '';
    for (const m of msgs) {
      const body = /^\s*([A-Z]+)\s+(\S+)\s*([\s\S]*)$/.exec(m)?.[3] ?? m;
      sink += body.length;
      if (parseJson) {
        try {
          JSON.parse(body);
        } catch {
          /* a text body or request */
        }
      }
      n++;
    }
  }
  return sink >= 0 ? n : -1;
}

/**
 * A loopback "IoT" that, once the service has subscribed, writes SIGNALs in blocks of 512
 * while fewer than `window` are outstanding (`received()` tells how many arrived), so the
 * receiver is measured at its own pace instead of being buried.
 */
async function signalPump(received: () => number, window = 8192): Promise<{ port: number; line: Buffer; stop: () => Promise<void> }> {
  const line = Buffer.from(encode.signal('/me/device0/ec/E', { status: 'OK', E: { value: '12.75' }, time: '1444751862.112' }));
  const block = Buffer.concat(Array.from({ length: 512 }, () => line));
  let stopped = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    let sent = 0;
    let seen = '';
    const pump = (): void => {
      if (stopped || s.destroyed) return;
      while (sent - received() < window && !s.writableNeedDrain) {
        s.write(block);
        sent += 512;
      }
      setImmediate(pump);
    };
    s.on('data', (d: Buffer) => {
      if (seen === 'go') return;
      seen += d.toString('latin1');
      if (seen.includes('CONNECT ')) {
        seen = 'go';
        s.write(encode.connectStatus('/me/device0/ec/E', true));
        pump();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    line,
    stop: async () => {
      stopped = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function rate(ms: number, count: () => number): Promise<number> {
  while (count() === 0) await new Promise((r) => setTimeout(r, 5));
  const n0 = count();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (count() - n0) / ((performance.now() - t0) / 1000);
}

/** SIGNAL on the socket → `signal` event of the service client. */
async function endToEndClient(ms: number): Promise<{ msgps: number; mbps: number }> {
  let n = 0;
  const pump = await signalPump(() => n);
  const client = new IsotelClient({ host: '127.0.0.1', port: pump.port, ident: { name: 'bench', vendor: 'Vigil', version: '0' } });
  client.on('signal', () => n++);
  client.subscribe('/me/device0/ec/E', undefined, 'bench');
  client.connect();
  const msgps = await rate(ms, () => n);
  await client.close();
  await pump.stop();
  return { msgps, mbps: (msgps * pump.line.length) / 1e6 };
}

interface EmbeddedRed {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  hooks: { add(name: string, fn: (evt: { destinationId?: string; destination?: { id?: string } }) => void): void; remove(name: string): void };
  runtime: { flows: { setFlows(o: { flows: { flows: unknown[] } }): Promise<unknown> } };
}

/**
 * SIGNAL on the socket → a message out of an isotel-signal node, in a real Node-RED runtime
 * embedded in this process (only the two Isotel node folders plus the core nodes loaded),
 * counted by an `onReceive` hook at an inactive debug node.
 */
async function endToEndNodeRed(ms: number): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- node-red ships no types for its embedding API
  const RED = require('node-red') as EmbeddedRed;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-isotel-'));
  let n = 0;
  const pump = await signalPump(() => n);
  const nodes = path.resolve(__dirname, '..', 'nodes');
  RED.init(http.createServer(), {
    userDir,
    nodesDir: [path.join(nodes, 'isotel-service'), path.join(nodes, 'isotel-signal')],
    httpAdminRoot: false,
    httpNodeRoot: false,
    credentialSecret: false,
    logging: { console: { level: 'error' } },
    editorTheme: { projects: { enabled: false } },
    externalModules: { autoInstall: false },
  });
  await RED.start();
  RED.hooks.add('onReceive.vigilBench', (evt) => {
    if ((evt.destinationId ?? evt.destination?.id) === 'bench-out') n++;
  });
  await RED.runtime.flows.setFlows({
    flows: {
      flows: [
        { id: 'bench-tab', type: 'tab', label: 'bench' },
        { id: 'bench-svc', type: 'isotel-service', name: 'bench', host: '127.0.0.1', port: pump.port },
        { id: 'bench-sig', z: 'bench-tab', type: 'isotel-signal', service: 'bench-svc', uris: ['/me/device0/ec/E'], wires: [['bench-out']] },
        { id: 'bench-out', z: 'bench-tab', type: 'debug', active: false, wires: [] },
      ],
    },
  });
  const msgps = await rate(ms, () => n);
  RED.hooks.remove('onReceive.vigilBench');
  await RED.stop();
  await pump.stop();
  fs.rmSync(userDir, { recursive: true, force: true });
  return msgps;
}

export async function run(): Promise<void> {
  const mix = signalMix(8 * 1024 * 1024);
  const parts = chunks(mix);
  const count = decodeWithCodec(parts);
  if (count !== decodeNaive(parts) || count !== decodeWithCodec(parts, true)) throw new Error('codec and baseline disagree on the message count');
  const codec = measure(mix.length, 1000, () => decodeWithCodec(parts));
  const naiveLazy = measure(mix.length, 1000, () => decodeNaive(parts, false));
  const parsed = measure(mix.length, 1000, () => decodeWithCodec(parts, true));
  const naive = measure(mix.length, 1000, () => decodeNaive(parts));
  const e2e = await endToEndClient(1000);
  const e2eNr = await endToEndNodeRed(1500);
  const f = (x: number, d = 1): string => x.toFixed(d);
  console.log('isotel: codec decode, realistic SIGNAL mix (%s MB, %d messages, avg %d B/msg, 64 KiB chunks)', f(mix.length / 1e6), count, Math.round(mix.length / count));
  console.log('  vigil codec decode (Framer + keyword + URI + body text; JSON on demand): %s MB/s, %s k msg/s (target >= 200 MB/s)', f(codec.mbps), f(codec.msgps / 1000, 0));
  console.log('    baseline, same work: naive split("\\n\\n") + regex: %s MB/s  -> codec x%s', f(naiveLazy.mbps), f(codec.mbps / naiveLazy.mbps, 2));
  console.log('  vigil codec decode + JSON.parse of every body: %s MB/s, %s k msg/s', f(parsed.mbps), f(parsed.msgps / 1000, 0));
  console.log('    baseline, same work: naive split("\\n\\n") + regex + JSON.parse: %s MB/s  -> codec x%s', f(naive.mbps), f(parsed.mbps / naive.mbps, 2));
  console.log('isotel: end-to-end over loopback TCP (one %d-byte SIGNAL each):', Math.round(e2e.mbps * 1e6 / e2e.msgps));
  console.log('  SIGNAL -> service client event: %s k SIGNAL/s (%s MB/s)', f(e2e.msgps / 1000, 0), f(e2e.mbps));
  console.log('  SIGNAL -> msg out of isotel-signal in an embedded Node-RED runtime: %s k msg/s', f(e2eNr / 1000, 1));
}

if (require.main === module) {
  run().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
