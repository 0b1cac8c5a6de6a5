/**
 * The `processing` section (docs/camera-alarm.md §1.2) as a hub member: the reference's
 * snake_case keys plus our two extra ones (`resize_width`, `engine`), how a proposed section
 * is checked (types first, then the detector's own rules) and applied.
 */
import { missing, notFloat, notInt, valueError } from '../common/commands';
import type { ConfigError, ConfigSection, SectionMember } from '../system/types';
import { type MotionSettings, validateMotionSettings } from './detector';

const SECTION_KEYS: Array<[string, keyof MotionSettings]> = [
  ['fps', 'fps'],
  ['avg_weighting', 'avgWeighting'],
  ['dilation_iterations', 'dilationIterations'],
  ['fixed_lvl_threshold', 'fixedLvlThreshold'],
  ['gauss_ksize', 'gaussKsize'],
  ['pixel_threshold_hi', 'pixelThresholdHi'],
  ['pixel_threshold_lo', 'pixelThresholdLo'],
  ['resize_width', 'resizeWidth'],
  ['engine', 'engine'],
];
/** Keys docs/camera-alarm.md §1.2 requires; `resize_width` and `engine` may be left out (kept as they are). */
const REQUIRED = new Set(['fps', 'avg_weighting', 'dilation_iterations', 'fixed_lvl_threshold', 'gauss_ksize', 'pixel_threshold_hi', 'pixel_threshold_lo']);
const INTEGER = new Set(['fps', 'dilation_iterations', 'gauss_ksize', 'resize_width']);

export function processingToSection(s: MotionSettings): ConfigSection {
  const out: ConfigSection = {};
  for (const [snake, camel] of SECTION_KEYS) out[snake] = s[camel];
  return out;
}

/** The settings a proposed section makes of `current`, and its errors (none: apply them). */
export function processingFromSection(p: ConfigSection, current: MotionSettings): { settings: MotionSettings; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const next: MotionSettings = { ...current };
  const rec = next as unknown as Record<string, unknown>;
  for (const [snake, camel] of SECTION_KEYS) {
    const v = p[snake];
    if (v === undefined || v === null) {
      if (REQUIRED.has(snake)) errors.push(missing(['processing', snake]));
      continue;
    }
    if (snake === 'engine') {
      // The engine is created once, at deploy: a changed value here would be stored and
      // reported by /config while the old engine kept running.
      if (v !== current.engine) errors.push(valueError(['processing', 'engine'], `the engine cannot change through config_update (it is ${String(current.engine)}); change it in the node and redeploy`));
      continue;
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) {
      errors.push((INTEGER.has(snake) ? notInt : notFloat)(['processing', snake]));
      continue;
    }
    rec[camel] = n;
  }
  if (errors.length === 0) {
    const camelToSnake = new Map(SECTION_KEYS.map(([s, c]) => [c, s]));
    for (const [field, msg] of validateMotionSettings(next)) errors.push(valueError(['processing', camelToSnake.get(field) ?? field], msg));
  }
  return { settings: next, errors };
}

/** The hub member for a detector's live settings. */
export function processingSection(current: () => MotionSettings, configure: (s: MotionSettings) => void): SectionMember {
  return {
    section: 'processing',
    get: () => processingToSection(current()),
    validate: (p) => processingFromSection(p, current()).errors,
    apply: (p) => {
      const { settings, errors } = processingFromSection(p, current());
      if (errors.length === 0) configure(settings);
    },
  };
}
