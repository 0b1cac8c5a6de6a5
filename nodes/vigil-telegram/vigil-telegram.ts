/**
 * vigil-telegram: the Telegram alerter (camera-alarm.md §6.4). Thin adapter over
 * lib/alarm/telegram.ts (Bot API via fetch, per-chat retries) and lib/alarm/alerter.ts
 * (which alerts run, 3 tries 3 s / 6 s apart).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { isValidAlerterName, parseAlert, RetryAborted, skipReason, validateAlerterFlags, validateStrings } from '../../lib/alarm/alerter';
import { DEFAULT_API_BASE, DEFAULT_TITLE, TelegramClient, isValidChatId, sendTelegramAlert } from '../../lib/alarm/telegram';
import type { Clock } from '../../lib/common/clock';
import type { SystemHub } from '../../lib/system/hub';
import type { ConfigError, ConfigSection } from '../../lib/system/types';
import { errorMessage } from '../util';

interface TelegramDef extends NodeDef {
  system?: string;
  alerterName?: string;
  enabled?: boolean;
  testGroup?: boolean;
  chatIds?: string;
  title?: string;
  apiBase?: string;
  sendPhoto?: boolean;
}

interface TelegramCredentials {
  apiKey?: string;
}

interface Live {
  enabled: boolean;
  testGroup: boolean;
  apiKey: string;
  chatIds: string[];
  title: string;
  apiBase: string;
  sendPhoto: boolean;
}

function splitChatIds(s: unknown): string[] {
  if (Array.isArray(s)) return s.map((x) => String(x).trim()).filter((x) => x !== '');
  return String(s ?? '')
    .split(/[\s,;]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function validApiBase(v: string): boolean {
  if (v === '') return true;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export = function (RED: NodeAPI): void {
  function VigilTelegramNode(this: Node<TelegramCredentials>, config: TelegramDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const clock = (RED.settings as unknown as { vigilClock?: Clock }).vigilClock;
    const name = (config.alerterName || 'telegram').trim();
    const prefix = ['alerters', name];
    const live: Live = {
      enabled: config.enabled !== false,
      testGroup: config.testGroup !== false,
      apiKey: (node.credentials?.apiKey || '').trim(),
      chatIds: splitChatIds(config.chatIds),
      title: config.title ?? DEFAULT_TITLE,
      apiBase: (config.apiBase || '').trim(),
      sendPhoto: config.sendPhoto === true,
    };
    const aborter = new AbortController();
    const running = new Set<Promise<unknown>>();
    const cleanups: Array<() => void> = [];

    const toSection = (l: Live): ConfigSection => ({
      enabled: l.enabled,
      test_grp: l.testGroup,
      api_key: l.apiKey,
      chat_ids: [...l.chatIds],
      title: l.title,
      api_base: l.apiBase,
      send_photo: l.sendPhoto,
    });
    const validate = (p: ConfigSection): ConfigError[] => {
      const errors: ConfigError[] = [...validateAlerterFlags(p, prefix), ...validateStrings(p, ['api_key', 'title', 'api_base'], prefix)];
      if (p.chat_ids !== undefined && p.chat_ids !== null) {
        if (!Array.isArray(p.chat_ids)) errors.push({ loc: [...prefix, 'chat_ids'], msg: 'value is not a valid list', type: 'type_error.list' });
        else
          p.chat_ids.forEach((c: unknown, i: number) => {
            if (!isValidChatId(c)) errors.push({ loc: [...prefix, 'chat_ids', i], msg: 'not a Telegram chat id (a number or @name)', type: 'value_error' });
          });
      }
      if (typeof p.api_base === 'string' && !validApiBase(p.api_base.trim())) errors.push({ loc: [...prefix, 'api_base'], msg: 'not an http(s) URL', type: 'value_error.url' });
      if (p.send_photo !== undefined && typeof p.send_photo !== 'boolean') errors.push({ loc: [...prefix, 'send_photo'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' });
      return errors;
    };
    const apply = (p: ConfigSection): void => {
      live.enabled = p.enabled === true;
      live.testGroup = p.test_grp === true;
      if (typeof p.api_key === 'string') live.apiKey = p.api_key.trim();
      if (Array.isArray(p.chat_ids)) live.chatIds = splitChatIds(p.chat_ids);
      if (typeof p.title === 'string') live.title = p.title;
      if (typeof p.api_base === 'string') live.apiBase = p.api_base.trim();
      if (typeof p.send_photo === 'boolean') live.sendPhoto = p.send_photo;
      showIdle();
    };

    const problem = (): string | undefined => {
      if (!isValidAlerterName(name)) return RED._('vigil-telegram.errors.badName', { name });
      if (!live.apiKey) return RED._('vigil-telegram.errors.noApiKey');
      if (live.chatIds.length === 0) return RED._('vigil-telegram.errors.noChats');
      const bad = validate(toSection(live));
      if (bad.length > 0) return bad.map((e) => `${e.loc.slice(2).join('.')}: ${e.msg}`).join('; ');
      return undefined;
    };

    const showIdle = (): void => {
      const p = problem();
      if (p) node.status({ fill: 'yellow', shape: 'ring', text: 'vigil-telegram.status.notConfigured' });
      else if (!live.enabled) node.status({ fill: 'grey', shape: 'ring', text: 'vigil-telegram.status.disabled' });
      else node.status({ fill: 'green', shape: 'ring', text: RED._('vigil-telegram.status.ready', { n: live.chatIds.length }) });
    };

    const sys = config.system ? (RED.nodes.getNode(config.system) as unknown as { hub?: SystemHub } | null) : null;
    const hub = sys?.hub;
    if (hub && isValidAlerterName(name)) {
      const section = `alerters.${name}`;
      try {
        cleanups.push(hub.register({ section, secretKeys: ['api_key'], get: () => toSection(live), validate, apply }));
        cleanups.push(
          hub.registerAlerter({
            name,
            get enabled() {
              return live.enabled;
            },
            set enabled(v: boolean) {
              live.enabled = v;
            },
            get testGroup() {
              return live.testGroup;
            },
            set testGroup(v: boolean) {
              live.testGroup = v;
            },
            setEnabled: (v: boolean) => {
              const errors = hub.updateSection(section, { enabled: v });
              if (errors.length > 0) node.warn(errors.map((e) => e.msg).join('; '));
            },
          }),
        );
      } catch (err) {
        node.error(errorMessage(err));
      }
    }
    const initial = problem();
    if (initial) node.warn(initial);
    showIdle();

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const m = msg as NodeMessageInFlow & { payload?: unknown; photo?: unknown };
      const alert = parseAlert(m.payload);
      if (!alert) {
        done(new Error(RED._('vigil-telegram.errors.badAlert')));
        return;
      }
      const skip = skipReason(alert, { name, enabled: live.enabled, testGroup: live.testGroup });
      if (skip) {
        node.debug(RED._(`vigil-telegram.log.skip.${skip}`, { name }));
        node.status({ fill: 'grey', shape: 'ring', text: `vigil-telegram.status.skip.${skip}` });
        done();
        return;
      }
      const p = problem();
      if (p) {
        done(new Error(p));
        return;
      }
      const photo = Buffer.isBuffer(m.photo) ? m.photo : live.sendPhoto ? hub?.frame?.jpeg : undefined;
      const client = new TelegramClient({ token: live.apiKey, apiBase: live.apiBase || DEFAULT_API_BASE });
      node.status({ fill: 'blue', shape: 'dot', text: 'vigil-telegram.status.sending' });
      const job = sendTelegramAlert(client, {
        chats: live.chatIds,
        title: live.title,
        message: alert.message,
        photo,
        clock,
        signal: aborter.signal,
        onRetry: (err, attempt, delay, pending) => {
          node.status({ fill: 'yellow', shape: 'dot', text: RED._('vigil-telegram.status.retrying', { attempt: attempt + 1 }) });
          node.log(RED._('vigil-telegram.log.retry', { attempt, delay: delay / 1000, chats: pending.join(', '), error: errorMessage(err) }));
        },
      }).then(
        (r) => {
          const out = { ...m, payload: { alerter: name, ok: r.failed.length === 0, message: alert.message, test: alert.test, sent: r.sent, failed: r.failed, tries: r.tries } };
          send(out as NodeMessage);
          if (r.failed.length === 0) {
            node.status({ fill: 'green', shape: 'dot', text: RED._('vigil-telegram.status.sent', { n: r.sent.length }) });
            done();
          } else {
            node.status({ fill: 'red', shape: 'dot', text: RED._('vigil-telegram.status.failed', { n: r.failed.length }) });
            done(new Error(RED._('vigil-telegram.errors.failed', { tries: r.tries, failed: r.failed.map((f) => `${f.chat} (${f.error})`).join('; ') })));
          }
        },
        (err) => {
          if (err instanceof RetryAborted || aborter.signal.aborted) done();
          else done(err instanceof Error ? err : new Error(String(err)));
        },
      );
      running.add(job);
      void job.finally(() => running.delete(job));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      aborter.abort();
      for (const c of cleanups.splice(0)) c();
      void Promise.allSettled([...running]).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType<Node<TelegramCredentials>, TelegramDef, unknown, TelegramCredentials>('vigil-telegram', VigilTelegramNode, { credentials: { apiKey: { type: 'password' } } });
};
