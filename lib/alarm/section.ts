/**
 * The alerter sections `alerters.<name>` of the two alerters (docs/camera-alarm.md §6): their own
 * keys (after `enabled` / `test_grp`, see alerter.ts), how they are checked and applied.
 * The node adapters (nodes/vigil-telegram, nodes/vigil-siren) only map editor settings.
 */
import { notBool, notList, valueError } from '../common/commands';
import type { ConfigError, ConfigSection } from '../system/types';
import { validateStrings } from './alerter';
import { isValidChatId } from './telegram';

type Prefix = Array<string | number>;

/** How one alerter's own keys map to and from its section. */
export interface AlerterSection<S> {
  secretKeys?: string[];
  toSection: (l: S) => ConfigSection;
  validate: (p: ConfigSection, prefix: Prefix) => ConfigError[];
  apply: (p: ConfigSection, l: S) => void;
}

// ---- Telegram (docs/camera-alarm.md §6.4)

export interface TelegramSettings {
  apiKey: string;
  chatIds: string[];
  title: string;
  apiBase: string;
  sendPhoto: boolean;
}

/** Chat ids as typed (separated by spaces, commas or semicolons) or as a list. */
export function splitChatIds(s: unknown): string[] {
  if (Array.isArray(s)) return s.map((x) => String(x).trim()).filter((x) => x !== '');
  return String(s ?? '')
    .split(/[\s,;]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** '' (the default) or an http(s) URL. */
export function isValidApiBase(v: string): boolean {
  if (v === '') return true;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export const telegramSection: AlerterSection<TelegramSettings> = {
  secretKeys: ['api_key'],
  toSection: (l) => ({ api_key: l.apiKey, chat_ids: [...l.chatIds], title: l.title, api_base: l.apiBase, send_photo: l.sendPhoto }),
  validate: (p, prefix) => {
    const errors: ConfigError[] = validateStrings(p, ['api_key', 'title', 'api_base'], prefix);
    if (p.chat_ids !== undefined && p.chat_ids !== null) {
      if (!Array.isArray(p.chat_ids)) errors.push(notList([...prefix, 'chat_ids']));
      else
        p.chat_ids.forEach((c: unknown, i: number) => {
          if (!isValidChatId(c)) errors.push(valueError([...prefix, 'chat_ids', i], 'not a Telegram chat id (a number or @name)'));
        });
    }
    if (typeof p.api_base === 'string' && !isValidApiBase(p.api_base.trim())) errors.push(valueError([...prefix, 'api_base'], 'not an http(s) URL', 'value_error.url'));
    if (p.send_photo !== undefined && typeof p.send_photo !== 'boolean') errors.push(notBool([...prefix, 'send_photo']));
    return errors;
  },
  apply: (p, l) => {
    if (typeof p.api_key === 'string') l.apiKey = p.api_key.trim();
    if (Array.isArray(p.chat_ids)) l.chatIds = splitChatIds(p.chat_ids);
    if (typeof p.title === 'string') l.title = p.title;
    if (typeof p.api_base === 'string') l.apiBase = p.api_base.trim();
    if (typeof p.send_photo === 'boolean') l.sendPhoto = p.send_photo;
  },
};

// ---- SSH siren (docs/camera-alarm.md §6.3)

export interface SirenSettings {
  host: string;
  port: number;
  username: string;
  command: string;
  fingerprint: string;
  timeoutS: number;
}

export const DEFAULT_SIREN_COMMAND = 'aplay siren.wav -d 21';

export const sirenSection: AlerterSection<SirenSettings> = {
  toSection: (l) => ({ ssh_host: l.host, ssh_port: l.port, ssh_user: l.username, command: l.command, host_fingerprint: l.fingerprint, timeout_s: l.timeoutS }),
  validate: (p, prefix) => {
    const errors: ConfigError[] = validateStrings(p, ['ssh_host', 'ssh_user', 'command', 'host_fingerprint'], prefix);
    if (p.ssh_port !== undefined && !(Number.isInteger(p.ssh_port) && (p.ssh_port as number) >= 1 && (p.ssh_port as number) <= 65535)) {
      errors.push(valueError([...prefix, 'ssh_port'], 'a port number 1–65535'));
    }
    if (p.timeout_s !== undefined && !(typeof p.timeout_s === 'number' && p.timeout_s >= 1 && p.timeout_s <= 600)) {
      errors.push(valueError([...prefix, 'timeout_s'], 'a number of seconds 1–600'));
    }
    if (typeof p.command === 'string' && p.command.trim() === '') errors.push(valueError([...prefix, 'command'], 'the command must not be empty'));
    return errors;
  },
  apply: (p, l) => {
    if (typeof p.ssh_host === 'string') l.host = p.ssh_host.trim();
    if (typeof p.ssh_port === 'number') l.port = p.ssh_port;
    if (typeof p.ssh_user === 'string') l.username = p.ssh_user.trim();
    if (typeof p.command === 'string') l.command = p.command.trim();
    if (typeof p.host_fingerprint === 'string') l.fingerprint = p.host_fingerprint.trim();
    if (typeof p.timeout_s === 'number') l.timeoutS = p.timeout_s;
  },
};
