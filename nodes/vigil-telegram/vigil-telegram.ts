/**
 * vigil-telegram: the Telegram alerter (camera-alarm.md §6.4). Thin adapter over
 * lib/alarm/telegram.ts (Bot API via fetch, per-chat retries), lib/alarm/section.ts (its
 * `alerters.<name>` section) and lib/alarm/alerter.ts
 * (which alerts run, 3 tries 3 s / 6 s apart), with the alerter wiring shared with
 * vigil-siren (nodes/alerter.ts).
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { splitChatIds, telegramSection, type TelegramSettings } from '../../lib/alarm/section';
import { DEFAULT_API_BASE, DEFAULT_TITLE, TelegramClient, sendTelegramAlert } from '../../lib/alarm/telegram';
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

export = function (RED: NodeAPI): void {
  function VigilTelegramNode(this: Node<TelegramCredentials>, config: TelegramDef): void {
    RED.nodes.createNode(this, config);
    setupAlerter<TelegramSettings>(RED, this, config, {
      type: 'vigil-telegram',
      defaultName: 'telegram',
      settings: {
        apiKey: (this.credentials?.apiKey || '').trim(),
        chatIds: splitChatIds(config.chatIds),
        title: config.title ?? DEFAULT_TITLE,
        apiBase: (config.apiBase || '').trim(),
        sendPhoto: config.sendPhoto === true,
      },
      ...telegramSection,
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
