/**
 * The Telegram alerter's transport (docs/camera-alarm.md §6.4): Bot API `sendMessage` (or
 * `sendPhoto` with the latest frame, or `sendVideo` with an alarm clip) to every chat id, HTML text `<b>title</b>` CRLF
 * message, numeric ids as numbers and `@names` as strings. Three tries 3 s / 6 s apart
 * (the shared `retry`), and — unlike docs/camera-alarm.md §6.4 — a retry only resends to the chats that
 * failed. Uses Node's built-in `fetch`.
 */
import { Clock, systemClock } from '../common/clock';
import { retry } from './alerter';

export const DEFAULT_API_BASE = 'https://api.telegram.org';
export const DEFAULT_TITLE = 'Seizure App';

export class TelegramError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TelegramError';
  }
}

/** A chat id as the Bot API wants it: numeric ids as numbers, names as "@name". */
export function chatIdValue(id: string): number | string {
  const t = id.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  if (t.startsWith('@')) return t;
  return '@' + t;
}

/** Whether a configured chat id is usable (numeric, or a name of letters/digits/_). */
export function isValidChatId(id: unknown): boolean {
  if (typeof id !== 'string' && typeof id !== 'number') return false;
  const t = String(id).trim();
  return /^-?\d{1,20}$/.test(t) || /^@?[A-Za-z][A-Za-z0-9_]{3,}$/.test(t);
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<b>title</b>` CRLF body (docs/camera-alarm.md §6.4); no title → the body alone. */
export function formatText(title: string, body: string): string {
  return title ? `<b>${escapeHtml(title)}</b>\r\n${escapeHtml(body)}` : escapeHtml(body);
}

export interface TelegramClientOptions {
  token: string;
  apiBase?: string;
  /** Per request (ms, default 15 000). */
  timeoutMs?: number;
  /** Times the per-request timeout (default: the real clock). */
  clock?: Clock;
  fetch?: typeof fetch;
}

export class TelegramClient {
  private readonly token: string;
  private readonly apiBase: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: TelegramClientOptions) {
    this.token = opts.token;
    this.apiBase = (opts.apiBase || DEFAULT_API_BASE).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 15000;
    this.clock = opts.clock ?? systemClock;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** The method URL with the token replaced by "…" (for logs). */
  safeUrl(method: string): string {
    return `${this.apiBase}/bot…/${method}`;
  }

  async call(method: string, body: Record<string, unknown> | FormData, signal?: AbortSignal): Promise<unknown> {
    // One controller aborts the request on the caller's signal or on the timeout (on the injected clock).
    const ac = new AbortController();
    let timedOut = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.timeoutMs);
    const onAbort = (): void => ac.abort();
    if (signal?.aborted) ac.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const init: RequestInit = { method: 'POST', signal: ac.signal };
      if (body instanceof FormData) init.body = body;
      else {
        init.body = JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      let res: Response;
      let text: string;
      try {
        res = await this.fetchImpl(`${this.apiBase}/bot${this.token}/${method}`, init);
        text = await res.text();
      } catch (err) {
        if (timedOut) throw new TelegramError(`${method}: no answer within ${this.timeoutMs / 1000} s`);
        const e = err as Error & { cause?: { message?: string } };
        throw new TelegramError(`${method}: ${e.cause?.message ?? e.message}`);
      }
      let json: { ok?: boolean; description?: string; result?: unknown } | undefined;
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = undefined;
      }
      if (!res.ok || !json || json.ok !== true) {
        const why = json?.description ?? (text.slice(0, 200) || res.statusText);
        throw new TelegramError(`${method}: HTTP ${res.status} ${why}`, res.status);
      }
      return json.result;
    } finally {
      this.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  sendMessage(chat: string, text: string, signal?: AbortSignal): Promise<unknown> {
    return this.call(
      'sendMessage',
      { chat_id: chatIdValue(chat), text, parse_mode: 'HTML', disable_notification: false, disable_web_page_preview: true },
      signal,
    );
  }

  sendPhoto(chat: string, jpeg: Buffer, caption: string, signal?: AbortSignal): Promise<unknown> {
    const form = new FormData();
    form.append('chat_id', String(chatIdValue(chat)));
    form.append('caption', caption);
    form.append('parse_mode', 'HTML');
    form.append('photo', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'snapshot.jpg');
    return this.call('sendPhoto', form, signal);
  }

  /** A video file (e.g. an alarm clip) with a caption; `supports_streaming` lets phones start it at once. */
  sendVideo(chat: string, video: TelegramVideo, caption: string, signal?: AbortSignal): Promise<unknown> {
    const form = new FormData();
    form.append('chat_id', String(chatIdValue(chat)));
    form.append('caption', caption);
    form.append('parse_mode', 'HTML');
    form.append('supports_streaming', 'true');
    form.append('video', new Blob([new Uint8Array(video.data)], { type: video.type }), video.name);
    return this.call('sendVideo', form, signal);
  }
}

/** A video to send: its bytes, file name and content type. */
export interface TelegramVideo {
  data: Buffer;
  name: string;
  type: string;
}

/**
 * The Bot API's upload limit for videos (50 MB; a local Bot API server allows up to 2000 MB).
 * A larger clip is not sent: the caller says why.
 */
export const BOT_API_VIDEO_MAX_MB = 50;

export interface TelegramAlertOptions {
  chats: string[];
  title: string;
  message: string;
  /** Attach this JPEG (sendPhoto) instead of a plain message. */
  photo?: Buffer;
  /** Send this video (sendVideo, the message as its caption) instead; wins over `photo`. */
  video?: TelegramVideo;
  clock?: Clock;
  tries?: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, delayMs: number, pending: string[]) => void;
}

export interface TelegramAlertResult {
  sent: string[];
  failed: Array<{ chat: string; error: string }>;
  tries: number;
}

/**
 * Send one alert to every chat; each retry resends only to the chats still failing.
 * Resolves with what was sent and what failed after the last try (never rejects, except
 * on cancellation).
 */
export async function sendTelegramAlert(client: TelegramClient, opts: TelegramAlertOptions): Promise<TelegramAlertResult> {
  const text = formatText(opts.title, opts.message);
  let pending = [...new Set(opts.chats.map((c) => String(c).trim()).filter((c) => c !== ''))];
  const sent: string[] = [];
  let lastErrors = new Map<string, string>();
  let tries = 0;
  try {
    await retry(
      async (n) => {
        tries = n;
        const results = await Promise.allSettled(
          pending.map((chat) =>
            opts.video ? client.sendVideo(chat, opts.video, text, opts.signal) : opts.photo ? client.sendPhoto(chat, opts.photo, text, opts.signal) : client.sendMessage(chat, text, opts.signal),
          ),
        );
        const still: string[] = [];
        lastErrors = new Map();
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') sent.push(pending[i]);
          else {
            still.push(pending[i]);
            lastErrors.set(pending[i], r.reason instanceof Error ? r.reason.message : String(r.reason));
          }
        });
        pending = still;
        if (pending.length > 0) throw new TelegramError(`${pending.length} chat(s) failed: ${[...lastErrors.values()].join('; ')}`);
      },
      {
        clock: opts.clock,
        tries: opts.tries ?? 3,
        signal: opts.signal,
        onRetry: (err, attempt, delay) => opts.onRetry?.(err, attempt, delay, [...pending]),
      },
    );
  } catch (err) {
    if (!(err instanceof TelegramError)) throw err;
  }
  return { sent, failed: pending.map((chat) => ({ chat, error: lastErrors.get(chat) ?? 'failed' })), tries };
}
