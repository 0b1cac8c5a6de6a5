/**
 * Isotel Service API benchmarks (loopback only, bounded in time):
 *
 * 1. Codec decode throughput (MB/s) on a realistic SIGNAL mix fed in 64 KiB socket-sized
 *    chunks: the package decoder as the client runs it (Framer + keyword + URI + body text,
 *    JSON parsed on demand) and with every body JSON-parsed, each beside a naive baseline
 *    doing the same work in the same run (string concat + split('\n\n') + regex [+ JSON.parse]).
 * 2. End-to-end SIGNAL rate: a loopback TCP server writes SIGNALs as fast as the socket
 *    takes them; the service client (lib/isotel/client.ts) decodes and emits them — what
 *    isotel-signal turns into messages one-to-one.
 */
import net from 'node:net';
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

/** The codec as the service client runs it: frame, keyword, URI, body text (JSON parsed later, on demand). */
function decodeWithCodec(parts: Buffer[]): number {
  let n = 0;
  let sink = 0;
  const dec = new IsotelDecoder({
    onFrame: (f: Frame) => {
      n++;
      sink += f.text.length;
    },
  });
  for (const p of parts) dec.push(p);
  return sink >= 0 ? n : -1;
}

/** The codec with every body JSON-parsed at once (`decode`). */
function decodeWithCodecParsed(parts: Buffer[]): number {
  let n = 0;
  let sink = 0;
  const dec = new IsotelDecoder({
    onMessage: (m: IsotelMessage) => {
      n++;
      if (m.kind === 'signal') sink += m.uri.length;
    },
  });
  for (const p of parts) dec.push(p);
  return sink >= 0 ? n : -1;
}

/** The naive way without parsing bodies: concatenate text, split on blank lines, regex the keyword. */
function decodeNaiveNoJson(parts: Buffer[]): number {
  let n = 0;
  let sink = 0;
  let tail = '';
  for (const p of parts) {
    const text = (tail + p.toString('utf8')).replace(/\r\n/g, '\n');
    const msgs = text.split('\n\n');
    tail = msgs.pop() ?? '';
    for (const m of msgs) {
      const mm = /^\s*([A-Z]+)\s+(\S+)\s*([\s\S]*)$/.exec(m);
      sink += mm ? mm[3].length : m.length;
      n++;
    }
  }
  return sink >= 0 ? n : -1;
}

/** The naive way: concatenate text, split on blank lines, regex the keyword, JSON.parse. */
function decodeNaive(parts: Buffer[]): number {
  let n = 0;
  let tail = '';
  for (const p of parts) {
    const text = (tail + p.toString('utf8')).replace(/\r\n/g, '\n');
    const msgs = text.split('\n\n');
    tail = msgs.pop() ?? '';
    for (const m of msgs) {
      const mm = /^\s*([A-Z]+)\s+(\S+)\s*([\s\S]*)$/.exec(m);
      if (mm) {
        try {
          JSON.parse(mm[3]);
        } catch {
          /* text body */
        }
      } else {
        try {
          JSON.parse(m);
        } catch {
          /* text request */
        }
      }
      n++;
    }
  }
  return n;
}

async function endToEnd(ms: number): Promise<{ msgps: number; mbps: number }> {
  const line = Buffer.from(encode.signal('/me/device0/ec/E', { status: 'OK', E: { value: '12.75' }, time: '1444751862.112' }));
  const block = Buffer.concat(Array.from({ length: 512 }, () => line));
  let writer: net.Socket | undefined;
  let stop = false;
  const server = net.createServer((s) => {
    writer = s;
    s.on('error', () => undefined);
    const pump = (): void => {
      while (!stop && s.write(block)) {
        /* keep the socket full */
      }
      if (!stop) s.once('drain', pump);
    };
    // Let IDENT arrive first, then pump.
    s.once('data', pump);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const client = new IsotelClient({ host: '127.0.0.1', port, ident: { name: 'bench', vendor: 'Vigil', version: '0' } });
  let n = 0;
  let t0 = 0;
  client.on('signal', () => {
    if (n++ === 0) t0 = performance.now();
  });
  client.subscribe('/me/device0/ec/E', undefined, 'bench');
  client.connect();
  await new Promise((r) => setTimeout(r, ms));
  const t1 = performance.now();
  const count = n;
  stop = true;
  await client.close();
  writer?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  const s = (t1 - t0) / 1000;
  return { msgps: count / s, mbps: (count * line.length) / 1e6 / s };
}

export async function run(): Promise<void> {
  const mix = signalMix(8 * 1024 * 1024);
  const parts = chunks(mix);
  const count = decodeWithCodec(parts);
  if (count !== decodeNaive(parts) || count !== decodeWithCodecParsed(parts)) throw new Error('codec and baseline disagree on the message count');
  const codec = measure(mix.length, 1000, () => decodeWithCodec(parts));
  const naiveLazy = measure(mix.length, 1000, () => decodeNaiveNoJson(parts));
  const parsed = measure(mix.length, 1000, () => decodeWithCodecParsed(parts));
  const naive = measure(mix.length, 1000, () => decodeNaive(parts));
  const e2e = await endToEnd(1500);
  const f = (x: number, d = 1): string => x.toFixed(d);
  console.log('isotel: codec decode, realistic SIGNAL mix (%s MB, %d messages, avg %d B/msg, 64 KiB chunks)', f(mix.length / 1e6), count, Math.round(mix.length / count));
  console.log('  vigil codec decode (Framer + keyword + URI + body text; JSON on demand): %s MB/s, %s k msg/s (target >= 200 MB/s)', f(codec.mbps), f(codec.msgps / 1000, 0));
  console.log('    baseline, same work: naive split("\\n\\n") + regex: %s MB/s  -> codec x%s', f(naiveLazy.mbps), f(codec.mbps / naiveLazy.mbps, 2));
  console.log('  vigil codec decode + JSON.parse of every body: %s MB/s, %s k msg/s', f(parsed.mbps), f(parsed.msgps / 1000, 0));
  console.log('    baseline, same work: naive split("\\n\\n") + regex + JSON.parse: %s MB/s  -> codec x%s', f(naive.mbps), f(parsed.mbps / naive.mbps, 2));
  console.log('isotel: end-to-end SIGNAL -> client event over loopback TCP: %s k SIGNAL/s (%s MB/s)', f(e2e.msgps / 1000, 0), f(e2e.mbps));
}

if (require.main === module) {
  run().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
