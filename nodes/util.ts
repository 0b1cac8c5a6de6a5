/**
 * Small helpers shared by the node adapters (not a node type: no folder of its own).
 */
import type { NodeAPI } from 'node-red';
import type { Clock } from '../lib/common/clock';

/** A readable message from anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** Parse a number setting from the editor (strings allowed), with a default and bounds. */
export function numberSetting(value: unknown, fallback: number, min = -Infinity, max = Infinity): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

/**
 * The flow-wide clock tests inject through Node-RED's settings (`settings.vigilClock`, a
 * FakeClock); undefined in a real runtime, where each node falls back to the system clock.
 */
export function flowClock(RED: NodeAPI): Clock | undefined {
  return (RED.settings as unknown as { vigilClock?: Clock }).vigilClock;
}
