/**
 * A camera simulator: serves a list of JPEG frames, looped, as MJPEG
 * (`multipart/x-mixed-replace`) at `/stream.mjpg` (also `/video.mjpeg`, `/`) and the current
 * frame at `/snapshot.jpg`, with optional Basic/Digest auth. Used by bin/camera-sim, the
 * tests, the demo and `bench:cameras`.
 *
 * Many stream clients are served at once at little cost: each frame's multipart part is
 * built once (on first use) and the same Buffer is written to every client. With `phases`
 * the clients are spread over that many evenly spaced instants of the frame interval, as
 * independent cameras would be, rather than all receiving their frame at the same moment.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ServerAuth, ServerAuthMode } from '../common/digest';

export interface CameraSimOptions {
  frames: Buffer[];
  fps?: number;
  host?: string;
  port?: number;
  auth?: ServerAuthMode;
  username?: string;
  password?: string;
  /** Multipart boundary (default "vigilframe"). */
  boundary?: string;
  /** Leave out Content-Length in parts (some cameras do). */
  noContentLength?: boolean;
  /**
   * Spread the stream clients over this many instants of each frame interval (default 1: all
   * at once). Client k gets phase k mod `phases`.
   */
  phases?: number;
}

export interface CameraSim {
  server: http.Server;
  port: number;
  url: string;
  /** Connected stream clients. */
  readonly clients: number;
  /** Stop sending frames to stream clients (they stay connected: a stalled camera). */
  pause(paused: boolean): void;
  close(): Promise<void>;
}

export function startCameraSim(opts: CameraSimOptions): Promise<CameraSim> {
  if (opts.frames.length === 0) return Promise.reject(new Error('camera-sim: no frames'));
  const fps = opts.fps && opts.fps > 0 ? opts.fps : 15;
  const boundary = opts.boundary ?? 'vigilframe';
  const auth = opts.auth && opts.auth !== 'none' ? new ServerAuth({ mode: opts.auth, realm: 'camera-sim', username: opts.username ?? 'admin', password: opts.password ?? 'admin' }) : undefined;
  const phases = Math.max(1, Math.floor(opts.phases ?? 1));
  /** Stream clients by phase. */
  const streams: Array<Set<http.ServerResponse>> = Array.from({ length: phases }, () => new Set());
  let clientCount = 0;
  let nextPhase = 0;
  let index = 0;
  let tick = 0;
  let paused = false;
  const current = (): Buffer => opts.frames[index % opts.frames.length];

  // Each frame's part is built once and then shared by every client and every loop of the clip.
  const parts = new Array<Buffer | undefined>(opts.frames.length);
  const part = (i: number): Buffer => {
    const k = i % opts.frames.length;
    let p = parts[k];
    if (!p) {
      const jpeg = opts.frames[k];
      const head = `--${boundary}\r\nContent-Type: image/jpeg\r\n${opts.noContentLength ? '' : `Content-Length: ${jpeg.length}\r\n`}\r\n`;
      p = Buffer.concat([Buffer.from(head, 'latin1'), jpeg, Buffer.from('\r\n', 'latin1')]);
      parts[k] = p;
    }
    return p;
  };

  // One timer for all clients: `phases` sub-ticks per frame interval; the frame advances on
  // phase 0. Due times are absolute (start + k·interval), so a busy machine delays a frame
  // but never slows the stream down; more than one frame interval behind, it skips ahead
  // like a camera's own clock would.
  const step = 1000 / fps / phases;
  const t0 = performance.now();
  const subTick = (): void => {
    const phase = tick % phases;
    tick++;
    if (paused) return;
    if (phase === 0) index++;
    const group = streams[phase];
    if (group.size === 0) return;
    const data = part(index);
    for (const res of group) {
      // A slow client skips frames instead of buffering without limit.
      if (res.writableLength > 4 * data.length) continue;
      res.write(data);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(() => {
      const due = Math.floor((performance.now() - t0) / step);
      if (due - tick > phases) tick += Math.floor((due - tick - phases) / phases) * phases;
      while (tick < due) subTick();
      schedule();
    }, Math.max(0, t0 + (tick + 1) * step - performance.now()));
  };
  schedule();

  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (auth && !auth.admit(req, res)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    if (url === '/snapshot.jpg' || url === '/snapshot') {
      const jpeg = current();
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : jpeg);
      return;
    }
    if (url === '/stream.mjpg' || url === '/video.mjpeg' || url === '/video.mjpg' || url === '/') {
      res.writeHead(200, {
        'Content-Type': `multipart/x-mixed-replace; boundary=${boundary}`,
        'Cache-Control': 'no-cache',
        Connection: 'close',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const group = streams[nextPhase];
      nextPhase = (nextPhase + 1) % phases;
      group.add(res);
      clientCount++;
      res.write(part(index));
      const drop = (): void => {
        if (group.delete(res)) clientCount--;
      };
      res.on('close', drop);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found: try /stream.mjpg or /snapshot.jpg\n');
  });

  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';
      resolve({
        server,
        port,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        get clients() {
          return clientCount;
        },
        pause: (p: boolean) => {
          paused = p;
        },
        close: () =>
          new Promise<void>((r) => {
            clearTimeout(timer);
            for (const group of streams) {
              for (const res of group) res.destroy();
              group.clear();
            }
            clientCount = 0;
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
