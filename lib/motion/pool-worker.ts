/**
 * A worker process of the engine pool (lib/motion/pool.ts): hosts the engines of many
 * detectors — all of one kind, given as the first argument (`opencv` or `sharp`) — each under
 * the number the parent gave it. OpenCV frames run one at a time, inline (this process is the
 * pool); sharp decodes on libvips' threads, the pipeline loops here. Messages are handled in
 * order, so a `configure` or `reset` sent after a frame applies after that frame. Exits when
 * the parent goes away.
 */
import type { EngineName, EngineResult, EngineSettings } from './engine';
import { FrameError } from './engine';

export type PoolRequest =
  | { type: 'open'; engine: number; settings: EngineSettings }
  | { type: 'configure'; engine: number; settings: EngineSettings }
  | { type: 'reset'; engine: number }
  | { type: 'close'; engine: number }
  | { type: 'frame'; engine: number; id: number; jpeg: Uint8Array };

export type PoolReply =
  | { type: 'result'; id: number; count: number; width: number; height: number; resized: boolean }
  | { type: 'error'; id: number; message: string; frame: boolean };

/** What the worker needs of an engine. */
interface Hosted {
  process(jpeg: Buffer): Promise<EngineResult>;
  configure(settings: EngineSettings): void;
  reset(): void;
}

/** The engine factory of a kind, or why that kind cannot run here. Modules load only for the kind in use. */
function factory(kind: EngineName): { make?: (s: EngineSettings) => Hosted; reason?: string } {
  if (kind === 'sharp') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only in a sharp worker
    const { SharpPipeline } = require('./sharp-decode') as typeof import('./sharp-decode');
    return { make: (s) => new SharpPipeline(s) };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only in an opencv worker
  const { OpenCvEngine, loadOpenCv } = require('./opencv') as typeof import('./opencv');
  const { cv, reason } = loadOpenCv();
  return cv ? { make: (s) => new OpenCvEngine(cv, s, { inline: true }) } : { reason: `the opencv engine is unavailable in its worker: ${reason}` };
}

if (require.main === module && process.send) {
  const send = (m: PoolReply): void => void process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  const { make, reason } = factory(process.argv[2] === 'sharp' ? 'sharp' : 'opencv');
  const engines = new Map<number, Hosted>();
  const fail = (id: number, message: string, frame: boolean): void => send({ type: 'error', id, message, frame });
  process.on('message', (req: PoolRequest) => {
    switch (req.type) {
      case 'open':
        if (make) engines.set(req.engine, make(req.settings));
        break;
      case 'configure':
        engines.get(req.engine)?.configure(req.settings);
        break;
      case 'reset':
        engines.get(req.engine)?.reset();
        break;
      case 'close':
        engines.delete(req.engine);
        break;
      case 'frame': {
        const e = engines.get(req.engine);
        if (!e) {
          fail(req.id, reason ?? 'engine closed', false);
          return;
        }
        const jpeg = Buffer.from(req.jpeg.buffer, req.jpeg.byteOffset, req.jpeg.byteLength);
        e.process(jpeg).then(
          (r) => send({ type: 'result', id: req.id, ...r }),
          (err: unknown) => fail(req.id, err instanceof Error ? err.message : String(err), err instanceof FrameError),
        );
        break;
      }
    }
  });
}
