#!/usr/bin/env node
/**
 * telegram-sim: a tiny Telegram Bot API stand-in for vigil-telegram demos and tests.
 * Run `telegram-sim --help` for the options.
 */
import { TelegramSim } from '../lib/alarm/sim';
import { intValue, portValue, runCli, serveUntilSignal } from '../lib/common/cli';

const HELP = `telegram-sim — a tiny Telegram Bot API stand-in (demos and tests)

Usage: telegram-sim [options]

  --host <addr>        bind address (default 127.0.0.1)
  --port <n>           port (default 6040)
  --token <token>      accept only this bot token (default: any token)
  --fail-first <n>     answer HTTP 500 to the first n sends (shows the alerter's retries)
  --quiet              no log lines
  -h, --help           this text

Methods (POST http://<host>:<port>/bot<token>/<method>):
  sendMessage          JSON body; logged as: sendMessage {"chat_id":…,"text":…,…}
  sendPhoto            multipart/form-data (chat_id, caption, photo); logged with the photo size
  sendVideo            multipart/form-data (chat_id, caption, video); logged with the video size
  getMe                a fixed bot description
Answers are shaped like Telegram's: {"ok":true,"result":{…}} or {"ok":false,"error_code":…,"description":…}.

Point vigil-telegram's "Bot API base" at http://127.0.0.1:6040 to use it.
`;

runCli('telegram-sim', HELP, { host: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' }, 'fail-first': { type: 'string' }, quiet: { type: 'boolean' } }, async (o) => {
  const host = o.host ?? '127.0.0.1';
  const port = portValue(o.port, '--port') ?? 6040;
  const failFirst = intValue(o['fail-first'], '--fail-first', 0, 65535) ?? 0;
  const quiet = o.quiet === true;
  const sim = new TelegramSim({ host, port, token: o.token, failFirst, log: quiet ? undefined : (l) => console.log(`[telegram-sim] ${l}`) });
  const p = await serveUntilSignal(sim, host, port);
  if (!quiet) console.log(`[telegram-sim] Bot API stand-in on http://${host}:${p}`);
});
