/**
 * The sharp engine's per-frame work, shared by its worker thread and by the benchmark:
 * sharp decodes (and resizes, keeping the aspect ratio) to raw pixels, then BT.601 luma
 * and the pipeline run in typed-array loops ({@link GreyDetector}).
 */
import sharp from 'sharp';
import type { OutputInfo } from 'sharp';
import { EngineResult, EngineSettings, FrameError, checkJpeg, targetSize } from './engine';
import { GreyDetector, lumaFromRgb } from './pipeline';

export interface DecodedGrey {
  grey: Uint8Array;
  width: number;
  height: number;
}

/** Decode a JPEG to grey at the processing size. Rejects with FrameError for a bad frame. */
export async function decodeGrey(jpeg: Buffer, resizeWidth: number, reuse?: Uint8Array): Promise<DecodedGrey> {
  const src = checkJpeg(jpeg);
  const size = targetSize(src.width, src.height, resizeWidth);
  let img = sharp(jpeg, { failOn: 'warning', sequentialRead: true });
  if (size.width !== src.width || size.height !== src.height) img = img.resize(size.width, size.height, { fit: 'fill', kernel: 'linear' });
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new FrameError(`JPEG could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { data, info } = out;
  const n = info.width * info.height;
  const grey = reuse && reuse.length === n ? reuse : new Uint8Array(n);
  if (info.channels >= 3) lumaFromRgb(data, info.channels, grey);
  else if (info.channels === 1) grey.set(data.subarray(0, n));
  else for (let i = 0; i < n; i++) grey[i] = data[i * info.channels];
  return { grey, width: info.width, height: info.height };
}

/** Decode + detect, the whole sharp-engine frame (run inside the worker). */
export class SharpPipeline {
  private settings: EngineSettings;
  private readonly detector: GreyDetector;
  private grey?: Uint8Array;

  constructor(settings: EngineSettings) {
    this.settings = { ...settings };
    this.detector = new GreyDetector(settings);
  }

  configure(settings: EngineSettings): void {
    this.settings = { ...settings };
    this.detector.configure(settings);
  }

  reset(): void {
    this.detector.reset();
  }

  async process(jpeg: Buffer): Promise<EngineResult> {
    const d = await decodeGrey(jpeg, this.settings.resizeWidth, this.grey);
    this.grey = d.grey;
    const r = this.detector.process(d.grey, d.width, d.height);
    return { count: r.count, width: d.width, height: d.height, resized: r.resized };
  }
}
