/**
 * vigil-telegram: the Telegram alerter (camera-alarm.md §6.4). Thin adapter over
 * lib/alarm/telegram.ts (Bot API via fetch, per-chat retries) and lib/alarm/alerter.ts
 * (which alerts run, 3 tries 3 s / 6 s apart), with the alerter wiring shared with
 * vigil-siren (nodes/alerter.ts).
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { validateStrings } from '../../lib/alarm/alerter';
import { DEFAULT_API_BASE, DEFAULT_TITLE, TelegramClient, isValidChatId, sendTelegramAlert } from '../../lib/alarm/telegram';
import type { ConfigError } from '../../lib/system/types';
import { type AlerterDef, setupAlerter } from '../alerter';

interface TelegramDef extends AlerterDef {
  chatIds?: string;
  title?: string;
  apiBase?: string;
  sendPhoto?: boolean;
}

interface TelegramCredentials {
  apiKey?: string;
}

interface Settings {
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
    setupAlerter<Settings>(RED, this, config, {
      type: 'vigil-telegram',
      defaultName: 'telegram',
      settings: {
        apiKey: (this.credentials?.apiKey || '').trim(),
        chatIds: splitChatIds(config.chatIds),
        title: config.title ?? DEFAULT_TITLE,
        apiBase: (config.apiBase || '').trim(),
        sendPhoto: config.sendPhoto === true,
      },
      secretKeys: ['api_key'],
      toSection: (l) => ({
        api_key: l.apiKey,
        chat_ids: [...l.chatIds],
        title: l.title,
        api_base: l.apiBase,
        send_photo: l.sendPhoto,
      }),
      validate: (p, prefix) => {
        const errors: ConfigError[] = validateStrings(p, ['api_key', 'title', 'api_base'], prefix);
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
      },
      apply: (p, l) => {
        if (typeof p.api_key === 'string') l.apiKey = p.api_key.trim();
        if (Array.isArray(p.chat_ids)) l.chatIds = splitChatIds(p.chat_ids);
        if (typeof p.title === 'string') l.title = p.title;
        if (typeof p.api_base === 'string') l.apiBase = p.api_base.trim();
        if (typeof p.send_photo === 'boolean') l.sendPhoto = p.send_photo;
      },
      missing: (l) => {
        if (!l.apiKey) return RED._('vigil-telegram.errors.noApiKey');
        if (l.chatIds.length === 0) return RED._('vigil-telegram.errors.noChats');
        return undefined;
      },
      readyArgs: (l) => ({ n: l.chatIds.length }),
      run: ({ alert, msg, send, done, live, name, clock, hub, signal, cancelled, onRetry }) => {
        const m = msg as typeof msg & { photo?: unknown };
        const photo = Buffer.isBuffer(m.photo) ? m.photo : live.sendPhoto ? hub?.frame?.jpeg : undefined;
        const client = new TelegramClient({ token: live.apiKey, apiBase: live.apiBase || DEFAULT_API_BASE, clock });
        this.status({ fill: 'blue', shape: 'dot', text: 'vigil-telegram.status.sending' });
        return sendTelegramAlert(client, {
          chats: live.chatIds,
          title: live.title,
          message: alert.message,
          photo,
          clock,
          signal,
          onRetry: (err, attempt, delay, pending) => onRetry(err, attempt, delay, { chats: pending.join(', ') }),
        }).then(
          (r) => {
            const out = { ...m, payload: { alerter: name, ok: r.failed.length === 0, message: alert.message, test: alert.test, sent: r.sent, failed: r.failed, tries: r.tries } };
            send(out as NodeMessage);
            if (r.failed.length === 0) {
              this.status({ fill: 'green', shape: 'dot', text: RED._('vigil-telegram.status.sent', { n: r.sent.length }) });
              done();
            } else {
              this.status({ fill: 'red', shape: 'dot', text: RED._('vigil-telegram.status.failed', { n: r.failed.length }) });
              done(new Error(RED._('vigil-telegram.errors.failed', { tries: r.tries, failed: r.failed.map((f) => `${f.chat} (${f.error})`).join('; ') })));
            }
          },
          (err) => {
            if (cancelled(err)) done();
            else done(err instanceof Error ? err : new Error(String(err)));
          },
        );
      },
    });
  }

  RED.nodes.registerType<Node<TelegramCredentials>, TelegramDef, unknown, TelegramCredentials>('vigil-telegram', VigilTelegramNode, { credentials: { apiKey: { type: 'password' } } });
};
