/**
 * The detector engine interface: one JPEG in, one changed-pixel count out, with the
 * background model kept inside the engine. Two engines implement it: `opencv`
 * (@u4/opencv4nodejs, native) and `sharp` (sharp decodes, the pipeline in typed-array
 * loops in a worker thread).
 */
import { jpegSize } from '../common/jpeg';
import { PipelineSettings } from './pipeline';

export type EngineName = 'opencv' | 'sharp';
export type EngineChoice = EngineName | 'auto';

export interface EngineSettings extends PipelineSettings {
  /** Frames are resized to this width keeping the aspect ratio; 0 keeps the camera's size. */
  resizeWidth: number;
}

export interface EngineResult {
  count: number;
  /** Size the pipeline ran at (after resize). */
  width: number;
  height: number;
  /** True when the frame size changed and the background model was reset before this frame. */
  resized: boolean;
}

export interface MotionEngine {
  readonly name: EngineName;
  /** New settings; resets the background model. */
  configure(settings: EngineSettings): void;
  /** Forget the background model (the next frame becomes the background). */
  reset(): void;
  /** Process one JPEG. Rejects with a {@link FrameError} for an undecodable frame. */
  process(jpeg: Buffer): Promise<EngineResult>;
  close(): Promise<void>;
}

/** A frame that could not be decoded: an error for that frame only. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** The processing size for a source size: `resizeWidth` wide, aspect kept (at least 1 px). */
export function targetSize(srcWidth: number, srcHeight: number, resizeWidth: number): { width: number; height: number } {
  if (!(resizeWidth > 0) || resizeWidth === srcWidth) return { width: srcWidth, height: srcHeight };
  return { width: resizeWidth, height: Math.max(1, Math.round((srcHeight * resizeWidth) / srcWidth)) };
}

/**
 * The frame's size from its header, after checking it is a whole JPEG: SOI/SOF present and
 * an EOI marker at the end (trailing padding allowed). OpenCV decodes a truncated JPEG
 * without complaint (the missing part comes out grey, a huge false "change"), so both
 * engines reject it here as a FrameError.
 */
export function checkJpeg(jpeg: Buffer): { width: number; height: number } {
  const size = jpegSize(jpeg);
  if (!size) throw new FrameError(`not a JPEG image (no SOI/SOF header; ${jpeg.length} bytes)`);
  let e = jpeg.length;
  const stop = Math.max(2, e - 64);
  while (e > stop && jpeg[e - 1] !== 0xd9) e--;
  if (!(e > stop && jpeg[e - 2] === 0xff)) throw new FrameError(`truncated JPEG: no end-of-image marker (${jpeg.length} bytes)`);
  return size;
}
