#!/usr/bin/env node
/**
 * telegram-sim: a tiny Telegram Bot API stand-in for vigil-telegram demos and tests.
 * Run `telegram-sim --help` for the options.
 */
import { TelegramSim } from '../lib/alarm/sim';

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
  getMe                a fixed bot description
Answers are shaped like Telegram's: {"ok":true,"result":{…}} or {"ok":false,"error_code":…,"description":…}.

Point vigil-telegram's "Bot API base" at http://127.0.0.1:6040 to use it.
`;

function main(): void {
  const args = process.argv.slice(2);
  let host = '127.0.0.1';
  let port = 6040;
  let token: string | undefined;
  let failFirst = 0;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      return;
    } else if (a === '--host') host = val();
    else if (a === '--port') port = intArg(a, val());
    else if (a === '--token') token = val();
    else if (a === '--fail-first') failFirst = intArg(a, val());
    else if (a === '--quiet') quiet = true;
    else fail(`unknown option ${a}`);
  }
  const sim = new TelegramSim({ host, port, token, failFirst, log: quiet ? undefined : (l) => console.log(`[telegram-sim] ${l}`) });
  sim.start().then(
    (p) => {
      if (!quiet) console.log(`[telegram-sim] Bot API stand-in on http://${host}:${p}`);
    },
    (err: Error) => fail(`cannot listen on ${host}:${port}: ${err.message}`),
  );
  const stop = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function fail(msg: string): never {
  process.stderr.write(`telegram-sim: ${msg}\n(see telegram-sim --help)\n`);
  process.exit(2);
}

function intArg(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be an integer 0–65535`);
  return n;
}

main();
