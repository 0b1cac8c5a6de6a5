/**
 * The `camera` section (docs/camera-alarm.md §1.2), `{ url }`, as a hub member. The URL's
 * credentials (`user:pass@`, `?pwd=…`) are served masked, and its scheme/host/port/user decide
 * where they may go (lib/system/secrets.ts); a URL may change at run time only within
 * {@link runtimeUrlProblem}'s rules (never to a local path).
 */
import { missing, notStr, valueError } from '../common/commands';
import type { ConfigError, ConfigSection, SectionMember } from '../system/types';
import { runtimeUrlProblem } from './sources';

export function validateCameraSection(p: ConfigSection): ConfigError[] {
  if (typeof p.url === 'string') return [];
  return [(p.url === undefined ? missing : notStr)(['camera', 'url'])];
}

export interface CameraSectionOptions {
  /** The camera's source kind (decides which URLs may be set at run time). */
  source: string;
  /** The node has credentials of its own: the URL's destination then never changes at run time. */
  heldSecrets: boolean;
}

/** The hub member for a camera's URL; `setUrl` gets a changed, trimmed URL only. */
export function cameraSection(url: () => string, setUrl: (url: string) => void, opts: CameraSectionOptions): SectionMember {
  return {
    section: 'camera',
    urlKeys: ['url'],
    heldSecrets: opts.heldSecrets,
    get: () => ({ url: url() }),
    validate: (p) => {
      const errors = validateCameraSection(p);
      if (errors.length > 0) return errors;
      const problem = runtimeUrlProblem(opts.source, url(), String(p.url));
      return problem ? [valueError(['camera', 'url'], problem, 'value_error.url')] : [];
    },
    apply: (p) => {
      const next = String(p.url ?? '').trim();
      if (next !== url()) setUrl(next);
    },
  };
}
