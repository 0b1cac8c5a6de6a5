/**
 * A worker process of the OpenCV engine pool (lib/motion/opencv-pool.ts): hosts the
 * {@link OpenCvEngine} of many detectors, each under the number the parent gave it, and runs
 * their frames one at a time (decode included: this process is the pool). Messages are
 * handled in order, so a `configure` or `reset` sent after a frame applies after that frame.
 * Exits when the parent goes away.
 */
import type { EngineSettings } from './engine';
import { FrameError } from './engine';
import { OpenCvEngine, loadOpenCv } from './opencv';

export type PoolRequest =
  | { type: 'open'; engine: number; settings: EngineSettings }
  | { type: 'configure'; engine: number; settings: EngineSettings }
  | { type: 'reset'; engine: number }
  | { type: 'close'; engine: number }
  | { type: 'frame'; engine: number; id: number; jpeg: Uint8Array };

export type PoolReply =
  | { type: 'result'; id: number; count: number; width: number; height: number; resized: boolean }
  | { type: 'error'; id: number; message: string; frame: boolean };

if (require.main === module && process.send) {
  const port = { postMessage: (m: PoolReply): void => void process.send?.(m) };
  process.on('disconnect', () => process.exit(0));
  const { cv, reason } = loadOpenCv();
  const engines = new Map<number, OpenCvEngine>();
  const fail = (id: number, message: string, frame: boolean): void => port.postMessage({ type: 'error', id, message, frame } satisfies PoolReply);
  process.on('message', (req: PoolRequest) => {
    switch (req.type) {
      case 'open':
        if (cv) engines.set(req.engine, new OpenCvEngine(cv, req.settings, { inline: true }));
        break;
      case 'configure':
        engines.get(req.engine)?.configure(req.settings);
        break;
      case 'reset':
        engines.get(req.engine)?.reset();
        break;
      case 'close': {
        const e = engines.get(req.engine);
        engines.delete(req.engine);
        void e?.close();
        break;
      }
      case 'frame': {
        const e = engines.get(req.engine);
        if (!e) {
          fail(req.id, cv ? 'opencv engine closed' : `the opencv engine is unavailable in its worker: ${reason}`, false);
          return;
        }
        const jpeg = Buffer.from(req.jpeg.buffer, req.jpeg.byteOffset, req.jpeg.byteLength);
        e.process(jpeg).then(
          (r) => port.postMessage({ type: 'result', id: req.id, ...r } satisfies PoolReply),
          (err: unknown) => fail(req.id, err instanceof Error ? err.message : String(err), err instanceof FrameError),
        );
        break;
      }
    }
  });
}
