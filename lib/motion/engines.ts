/**
 * Engine selection: `auto` takes OpenCV when @u4/opencv4nodejs loads, else sharp, and
 * says which and why; `opencv` insists (an error with the reason when it cannot load);
 * `sharp` always works. Either runs in its kind's pool of worker processes that every
 * detector of the process shares (lib/motion/pool.ts).
 */
import { EngineChoice, EngineSettings, MotionEngine } from './engine';
import { loadOpenCv } from './opencv';
import { PooledEngine, sharedPool } from './pool';

export interface EngineSelection {
  engine: MotionEngine;
  /** A one-line description for the log: which engine and why. */
  description: string;
  /** Set when `auto` fell back to sharp: why OpenCV is unavailable. */
  fallbackReason?: string;
}

/** Pool size and worker processes, for the description. */
function workers(n: number): string {
  return `${n} worker process${n === 1 ? '' : 'es'} shared by every detector`;
}

/** Both engines run in their kind's shared pool of worker processes (lib/motion/pool.ts). */
export function createEngine(choice: EngineChoice, settings: EngineSettings): EngineSelection {
  if (choice === 'sharp') {
    const pool = sharedPool('sharp');
    return { engine: new PooledEngine(pool, settings), description: `sharp engine (chosen in the settings; ${workers(pool.size)})` };
  }
  const { cv, reason } = loadOpenCv();
  if (cv) {
    const v = cv.version;
    const pool = sharedPool('opencv');
    return {
      engine: new PooledEngine(pool, settings),
      description: `opencv engine (OpenCV ${v.major}.${v.minor}.${v.revision}, ${workers(pool.size)}${choice === 'auto' ? ', picked by auto' : ''})`,
    };
  }
  if (choice === 'opencv') throw new Error(`the opencv engine is unavailable: ${reason}`);
  const pool = sharedPool('sharp');
  return { engine: new PooledEngine(pool, settings), description: `sharp engine (auto: ${reason}; ${workers(pool.size)})`, fallbackReason: reason };
}
