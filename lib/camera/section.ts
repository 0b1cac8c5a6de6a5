/**
 * The `camera` section (camera-alarm.md §1.2), `{ url }`, as a hub member. A URL with
 * credentials in it (rtsp://user:pass@…) is served masked, like any secret.
 */
import type { ConfigError, ConfigSection, SectionMember } from '../system/types';

/** True for a URL that carries user info (`scheme://user:pass@host…`). */
export function hasUserInfo(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(url);
}

export function validateCameraSection(p: ConfigSection): ConfigError[] {
  if (typeof p.url === 'string') return [];
  return [{ loc: ['camera', 'url'], msg: p.url === undefined ? 'field required' : 'str type expected', type: p.url === undefined ? 'value_error.missing' : 'type_error.str' }];
}

/** The hub member for a camera's URL; `setUrl` gets a changed, trimmed URL only. */
export function cameraSection(url: () => string, setUrl: (url: string) => void): SectionMember {
  return {
    section: 'camera',
    get secretKeys(): string[] {
      return hasUserInfo(url()) ? ['url'] : [];
    },
    get: () => ({ url: url() }),
    validate: validateCameraSection,
    apply: (p) => {
      const next = String(p.url ?? '').trim();
      if (next !== url()) setUrl(next);
    },
  };
}
