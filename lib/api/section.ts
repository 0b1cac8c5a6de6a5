/**
 * The API's own configuration section, `server` (docs/camera-alarm.md §1.2), as a hub member.
 * Host and port do not change while running (docs/camera-alarm.md §8.6): a `config_update`
 * may carry them (a client sends the whole document back, docs/camera-alarm.md §8.6) and they are checked
 * for type, but the listening socket stays where the node's settings put it.
 */
import { missing, notInt, notStr } from '../common/commands';
import type { ConfigError, ConfigSection, SectionMember } from '../system/types';

export interface ServerSectionInfo {
  host: string;
  port: number;
  /** Mount path when served on Node-RED's own server ("" for an own port). */
  path?: string;
  /** The system's clip folder (its recorder's), "" when it records none. */
  videoSaveDir?: string;
}

function intError(key: string, v: unknown): ConfigError | undefined {
  if (v === undefined) return missing(['server', key]);
  if (typeof v === 'number' && Number.isInteger(v)) return undefined;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return undefined;
  return notInt(['server', key]);
}

export function serverSection(info: () => ServerSectionInfo): SectionMember {
  return {
    section: 'server',
    get(): ConfigSection {
      const i = info();
      // video_save_dir is a required key (docs/camera-alarm.md §1.2): the recorder's folder, "" without one.
      // The monitor page is served on the API's port, hence webserver_port = websocket_port.
      const s: ConfigSection = { host_name: i.host, video_save_dir: i.videoSaveDir ?? '', websocket_port: i.port, webserver_port: i.port };
      if (i.path) s.path = i.path;
      return s;
    },
    validate(proposed: ConfigSection): ConfigError[] {
      const errors: ConfigError[] = [];
      if (proposed.host_name !== undefined && typeof proposed.host_name !== 'string') {
        errors.push(notStr(['server', 'host_name']));
      }
      for (const key of ['websocket_port', 'webserver_port']) {
        if (proposed[key] === undefined) continue;
        const e = intError(key, proposed[key]);
        if (e) errors.push(e);
      }
      return errors;
    },
    apply(): void {
      // Host and ports are fixed while running (docs/camera-alarm.md §8.6).
    },
  };
}
