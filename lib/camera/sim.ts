/**
 * A camera simulator: serves a list of JPEG frames, looped, as MJPEG
 * (`multipart/x-mixed-replace`) at `/stream.mjpg` (also `/video.mjpeg`, `/`) and the current
 * frame at `/snapshot.jpg`, with optional Basic/Digest auth. Used by bin/camera-sim, the
 * tests and the demo.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
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
  const streams = new Set<http.ServerResponse>();
  let index = 0;
  let paused = false;
  const current = (): Buffer => opts.frames[index % opts.frames.length];

  const part = (jpeg: Buffer): Buffer => {
    const head = `--${boundary}\r\nContent-Type: image/jpeg\r\n${opts.noContentLength ? '' : `Content-Length: ${jpeg.length}\r\n`}\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), jpeg, Buffer.from('\r\n', 'latin1')]);
  };

  const timer = setInterval(() => {
    if (paused) return;
    index++;
    if (streams.size === 0) return;
    const data = part(current());
    for (const res of streams) {
      // A slow client skips frames instead of buffering without limit.
      if (res.writableLength > 4 * data.length) continue;
      res.write(data);
    }
  }, 1000 / fps);

  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (auth) {
      const verdict = auth.check(req.method ?? 'GET', req.headers.authorization);
      if (verdict !== 'ok') {
        res.writeHead(401, { 'WWW-Authenticate': auth.challenges(verdict === 'stale'), 'Content-Type': 'text/plain' });
        res.end('unauthorised\n');
        return;
      }
    }
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
      streams.add(res);
      res.write(part(current()));
      const drop = (): void => {
        streams.delete(res);
      };
      res.on('close', drop);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found: try /stream.mjpg or /snapshot.jpg\n');
  });

  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      clearInterval(timer);
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
          return streams.size;
        },
        pause: (p: boolean) => {
          paused = p;
        },
        close: () =>
          new Promise<void>((r) => {
            clearInterval(timer);
            for (const res of streams) res.destroy();
            streams.clear();
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
