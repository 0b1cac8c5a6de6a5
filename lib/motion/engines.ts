/**
 * Engine selection: `auto` takes OpenCV when @u4/opencv4nodejs loads (run in the worker pool
 * every detector shares, lib/motion/opencv-pool.ts), else sharp, and
 * says which and why; `opencv` insists (an error with the reason when it cannot load);
 * `sharp` always works.
 */
import { Clock } from '../common/clock';
import { EngineChoice, EngineSettings, MotionEngine } from './engine';
import { loadOpenCv } from './opencv';
import { PooledOpenCvEngine, sharedOpenCvPool } from './opencv-pool';
import { SharpEngine } from './sharp';

export interface EngineSelection {
  engine: MotionEngine;
  /** A one-line description for the log: which engine and why. */
  description: string;
  /** Set when `auto` fell back to sharp: why OpenCV is unavailable. */
  fallbackReason?: string;
}

/** `clock` times the sharp engine's worker restarts. */
export function createEngine(choice: EngineChoice, settings: EngineSettings, opts: { clock?: Clock } = {}): EngineSelection {
  if (choice === 'sharp') return { engine: new SharpEngine(settings, opts), description: 'sharp engine (chosen in the settings)' };
  const { cv, reason } = loadOpenCv();
  if (cv) {
    const v = cv.version;
    const pool = sharedOpenCvPool();
    return {
      engine: new PooledOpenCvEngine(settings, pool),
      description: `opencv engine (OpenCV ${v.major}.${v.minor}.${v.revision}, ${pool.size} worker thread${pool.size === 1 ? '' : 's'} shared by every detector${choice === 'auto' ? ', picked by auto' : ''})`,
    };
  }
  if (choice === 'opencv') throw new Error(`the opencv engine is unavailable: ${reason}`);
  return { engine: new SharpEngine(settings, opts), description: `sharp engine (auto: ${reason})`, fallbackReason: reason };
}
