#!/usr/bin/env node
/**
 * siren-sim: an SSH siren stand-in for vigil-siren demos and tests (ssh2 server).
 * Run `siren-sim --help` for the options.
 */
import { SirenSim } from '../lib/alarm/sim';
import { portValue, runCli, serveUntilSignal } from '../lib/common/cli';

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

runCli('siren-sim', HELP, { host: { type: 'string' }, port: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, quiet: { type: 'boolean' } }, async (o) => {
  const host = o.host ?? '127.0.0.1';
  const port = portValue(o.port, '--port') ?? 6041;
  const username = o.user ?? 'siren';
  const quiet = o.quiet === true;
  const sim = new SirenSim({ host, port, username, password: o.password ?? 'siren', log: quiet ? undefined : (l) => console.log(`[siren-sim] ${l}`) });
  const p = await serveUntilSignal(sim, host, port);
  if (!quiet) console.log(`[siren-sim] SSH siren on ${host}:${p} (user ${username}), host key ${sim.fingerprint}`);
});
