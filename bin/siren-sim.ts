#!/usr/bin/env node
/**
 * siren-sim: an SSH siren stand-in for vigil-siren demos and tests (ssh2 server).
 * Run `siren-sim --help` for the options.
 */
import { SirenSim } from '../lib/alarm/sim';

const HELP = `siren-sim — an SSH siren stand-in (demos and tests)

Usage: siren-sim [options]

  --host <addr>        bind address (default 127.0.0.1)
  --port <n>           port (default 6041)
  --user <name>        the accepted user (default siren)
  --password <pw>      the accepted password (default siren)
  --quiet              no log lines
  -h, --help           this text

An SSH server with an ed25519 host key generated at start (its SHA256 fingerprint is
printed, ready to pin in vigil-siren). It accepts the one user/password and "runs" every
command it is asked to exec by logging it (exit status 0), e.g.
  exec {"user":"siren","command":"aplay siren.wav -d 21"}
`;

function main(): void {
  const args = process.argv.slice(2);
  let host = '127.0.0.1';
  let port = 6041;
  let username = 'siren';
  let password = 'siren';
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
    else if (a === '--port') {
      port = Number(val());
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be an integer 0–65535');
    } else if (a === '--user') username = val();
    else if (a === '--password') password = val();
    else if (a === '--quiet') quiet = true;
    else fail(`unknown option ${a}`);
  }
  const sim = new SirenSim({ host, port, username, password, log: quiet ? undefined : (l) => console.log(`[siren-sim] ${l}`) });
  sim.start().then(
    (p) => {
      if (!quiet) console.log(`[siren-sim] SSH siren on ${host}:${p} (user ${username}), host key ${sim.fingerprint}`);
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
  process.stderr.write(`siren-sim: ${msg}\n(see siren-sim --help)\n`);
  process.exit(2);
}

main();
