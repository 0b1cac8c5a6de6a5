/**
 * Worker thread of the sharp engine: the typed-array loops run here so Node-RED's event
 * loop never waits on them. One frame at a time; the main thread never sends a second
 * frame before the first is answered.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EngineSettings, FrameError } from './engine';
import { SharpPipeline } from './sharp-decode';

export type WorkerRequest =
  | { type: 'configure'; settings: EngineSettings }
  | { type: 'reset' }
  | { type: 'frame'; id: number; jpeg: Uint8Array };

export type WorkerReply =
  | { type: 'result'; id: number; count: number; width: number; height: number; resized: boolean }
  | { type: 'error'; id: number; message: string; frame: boolean };

if (parentPort) {
  const port = parentPort;
  const pipeline = new SharpPipeline(workerData as EngineSettings);
  port.on('message', (req: WorkerRequest) => {
    if (req.type === 'configure') pipeline.configure(req.settings);
    else if (req.type === 'reset') pipeline.reset();
    else if (req.type === 'frame') {
      const jpeg = Buffer.from(req.jpeg.buffer, req.jpeg.byteOffset, req.jpeg.byteLength);
      pipeline.process(jpeg).then(
        (r) => port.postMessage({ type: 'result', id: req.id, ...r } satisfies WorkerReply),
        (err: unknown) =>
          port.postMessage({
            type: 'error',
            id: req.id,
            message: err instanceof Error ? err.message : String(err),
            frame: err instanceof FrameError,
          } satisfies WorkerReply),
      );
    }
  });
}
