/**
 * Older names of kit helpers, kept while the remaining nodes move to nodes/kit.ts
 * (import from '../kit' in new code).
 */
import { readNumber } from './kit';

export { errorMessage, flowClock } from './kit';

/** @deprecated use `readNumber(value, fallback, { min, max })` from nodes/kit.ts. */
export function numberSetting(value: unknown, fallback: number, min = -Infinity, max = Infinity): number {
  return readNumber(value, fallback, { min, max });
}
