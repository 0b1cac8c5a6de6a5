/**
 * vigil-telegram: the Telegram alerter (camera-alarm.md §6.4), which also sends vigil-recorder
 * clips as videos when asked to. Thin adapter over
 * lib/alarm/telegram.ts (Bot API via fetch, per-chat retries), lib/alarm/section.ts (its
 * `alerters.<name>` section) and lib/alarm/alerter.ts
 * (which alerts run, 3 tries 3 s / 6 s apart), with the alerter wiring shared with
 * vigil-siren (nodes/alerter.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { splitChatIds, telegramSection, type TelegramSettings } from '../../lib/alarm/section';
import { BOT_API_VIDEO_MAX_MB, DEFAULT_API_BASE, DEFAULT_TITLE, TelegramClient, type TelegramVideo, sendTelegramAlert } from '../../lib/alarm/telegram';
import { CLIP_TYPES, clipFormat, isClipName } from '../../lib/recorder/naming';
import { type AlerterDef, type AlerterRun, setupAlerter } from '../alerter';
import { readNumber } from '../kit';

interface TelegramDef extends AlerterDef {
  chatIds?: string;
  title?: string;
  apiBase?: string;
  sendPhoto?: boolean;
  sendVideo?: boolean;
  videoMaxMB?: number | string;
}

/** The node's own settings beyond the `alerters.<name>` section: alarm clips as videos. */
type Settings = TelegramSettings & { sendVideo: boolean; videoMaxMB: number };

/** A vigil-recorder clip message: `payload` = the file's path, `clip.name` its (recorder-given) name. */
function clipOf(msg: { payload?: unknown; clip?: unknown }): { file: string; name: string; durationS?: number } | undefined {
  const c = msg.clip as { name?: unknown; durationS?: unknown } | undefined;
  if (typeof msg.payload !== 'string' || !c || typeof c.name !== 'string') return undefined;
  // Only a file the recorder named, at the path it gave: never any path a message carries.
  if (!isClipName(c.name) || path.basename(msg.payload) !== c.name || !path.isAbsolute(msg.payload)) return undefined;
  return { file: msg.payload, name: c.name, durationS: typeof c.durationS === 'number' ? c.durationS : undefined };
}

interface TelegramCredentials {
  apiKey?: string;
}

export = function (RED: NodeAPI): void {
  function VigilTelegramNode(this: Node<TelegramCredentials>, config: TelegramDef): void {
    RED.nodes.createNode(this, config);
    // One delivery (an alert, or a clip as a video): the result message, status and done.
    const deliver = (r: Omit<AlerterRun<Settings>, 'alert'>, message: string, extra: Record<string, unknown>, media: { photo?: Buffer; video?: TelegramVideo }): Promise<void> => {
      const { msg: m, send, done, live, name, clock, signal, cancelled, onRetry } = r;
      const client = new TelegramClient({ token: live.apiKey, apiBase: live.apiBase || DEFAULT_API_BASE, clock });
      this.status({ fill: 'blue', shape: 'dot', text: 'vigil-telegram.status.sending' });
      return sendTelegramAlert(client, {
        chats: live.chatIds,
        title: live.title,
        message,
        ...media,
        clock,
        signal,
        onRetry: (err, attempt, delay, pending) => onRetry(err, attempt, delay, { chats: pending.join(', ') }),
      }).then(
        (res) => {
          const out = { ...m, payload: { alerter: name, ok: res.failed.length === 0, message, ...extra, sent: res.sent, failed: res.failed, tries: res.tries } };
          send(out as NodeMessage);
          if (res.failed.length === 0) {
            this.status({ fill: 'green', shape: 'dot', text: RED._('vigil-telegram.status.sent', { n: res.sent.length }) });
            done();
          } else {
            this.status({ fill: 'red', shape: 'dot', text: RED._('vigil-telegram.status.failed', { n: res.failed.length }) });
            done(new Error(RED._('vigil-telegram.errors.failed', { tries: res.tries, failed: res.failed.map((f) => `${f.chat} (${f.error})`).join('; ') })));
          }
        },
        (err) => {
          if (cancelled(err)) done();
          else done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    };

    setupAlerter<Settings>(RED, this, config, {
      type: 'vigil-telegram',
      defaultName: 'telegram',
      settings: {
        apiKey: (this.credentials?.apiKey || '').trim(),
        chatIds: splitChatIds(config.chatIds),
        title: config.title ?? DEFAULT_TITLE,
        apiBase: (config.apiBase || '').trim(),
        sendPhoto: config.sendPhoto === true,
        sendVideo: config.sendVideo === true,
        videoMaxMB: readNumber(config.videoMaxMB, BOT_API_VIDEO_MAX_MB, { min: 1, max: 2000 }),
      },
      ...telegramSection,
      missing: (l) => {
        if (!l.apiKey) return RED._('vigil-telegram.errors.noApiKey');
        if (l.chatIds.length === 0) return RED._('vigil-telegram.errors.noChats');
        return undefined;
      },
      readyArgs: (l) => ({ n: l.chatIds.length }),
      run: ({ alert, ...r }) => {
        const m = r.msg as typeof r.msg & { photo?: unknown };
        const photo = Buffer.isBuffer(m.photo) ? m.photo : r.live.sendPhoto ? r.hub?.frame?.jpeg : undefined;
        return deliver(r, alert.message, { test: alert.test }, { photo });
      },
      // A vigil-recorder clip wired in: sent as a video (sendVideo) when allowed and small enough.
      other: {
        accepts: (msg) => clipOf(msg) !== undefined,
        run: async (r) => {
          const c = clipOf(r.msg) as NonNullable<ReturnType<typeof clipOf>>;
          const skipped = (why: string): void => {
            this.status({ fill: 'grey', shape: 'ring', text: 'vigil-telegram.status.videoSkipped' });
            this.warn(RED._('vigil-telegram.log.videoSkipped', { clip: c.name, why }));
            r.send({ ...r.msg, payload: { alerter: r.name, ok: false, clip: c.name, skipped: why } } as NodeMessage);
            r.done();
          };
          if (!r.live.sendVideo) return skipped(RED._('vigil-telegram.why.videoOff'));
          let data: Buffer;
          try {
            const size = (await fs.promises.stat(c.file)).size;
            if (size > r.live.videoMaxMB * 1024 * 1024) return skipped(RED._('vigil-telegram.why.tooBig', { mb: (size / 1048576).toFixed(1), max: r.live.videoMaxMB }));
            data = await fs.promises.readFile(c.file);
          } catch (err) {
            return r.done(new Error(RED._('vigil-telegram.errors.clipUnreadable', { clip: c.name, error: (err as Error).message })));
          }
          const type = CLIP_TYPES[clipFormat(c.name) ?? 'mp4'];
          const caption = RED._('vigil-telegram.clipCaption', { clip: c.name, s: c.durationS === undefined ? '?' : Math.round(c.durationS) });
          return deliver(r, caption, { clip: c.name }, { video: { data, name: c.name, type } });
        },
      },
    });
  }

  RED.nodes.registerType<Node<TelegramCredentials>, TelegramDef, unknown, TelegramCredentials>('vigil-telegram', VigilTelegramNode, { credentials: { apiKey: { type: 'password' } } });
};
