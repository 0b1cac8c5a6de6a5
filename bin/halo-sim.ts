#!/usr/bin/env node
/**
 * halo-sim: a HALO smart sensor in a command, for demos and tests. See `halo-sim --help`.
 */
import readline from 'node:readline';
import { CliError, SERVER_AUTH_OPTIONS, authModeValue, portValue, runCli, secondsValue, stopOnSignals } from '../lib/common/cli';
import { RECOMMENDED_TEMPLATES } from '../lib/halo/decode';
import type { DigestAlgorithm } from '../lib/common/digest';
import { HaloSim, PARTNER_TEMPLATES, parseTarget, type PushShape, type PushTarget } from '../lib/halo/sim';

const HELP = `halo-sim — a HALO IOT Smart Sensor simulator

Usage: halo-sim [options]

Pushing (the HALO is the client; repeat --to for several receivers):
  --to <url>                 tcp://host:port, udp://host:port or http(s)://host:port/path
  --set-template <text>      set string (default: the recommended JSON set string)
  --reset-template <text>    reset string (default: the recommended JSON reset string)
  --heartbeat-template <t>   heartbeat string (default: the recommended JSON heartbeat)
                             Templates use the HALO tokens (%NAME%, %EID%, %VAL%, %EVENTS%,
                             %ALLSENSORS@%, %SENSOR:RH% ...) and escapes (\\n, \\r, \\t).
                             An HTTP string (POST:http://...[HEADER]k:v[JSONBODY]{...}) is
                             sent as written; otherwise http targets get a POST of the text.
  --shape <s>                set/reset strings in a partner's shape instead: flat (camelCase
                             keys) or nested (event and device in sub-objects); default
                             recommended. --set-template/--reset-template still win.
  --push-auth <key:secret>   http(s) pushes carry these HTTP Basic credentials (or put them
                             in the URL: http://key:secret@host:port/path)
  --keep-open                TCP: keep one connection per receiver (default: one per message)
  --heartbeat <s>            send the heartbeat every <s> seconds (default 0 = off)
  --cycle <s>                demo traffic: every <s> seconds set the next event of
                             --cycle-events and reset it <s>/2 seconds later (default off)
  --cycle-events <a,b,...>   events to cycle (default Vape,Aggression,CO2cal,Help)
  --send <cmd>               send at start, in order; repeatable: set:<event>[=value],
                             reset:<event>, test:<event>, heartbeat
  --once                     exit after the --send commands

Device:
  --name <name>              %NAME% (default HALO-Sim)
  --mac <12 hex>             %MAC% (default AABBCCDDEEFF)
  --ip <address>             %IP% (default 127.0.0.1)
  --user <u> --pswd <p>      %USER% / %PSWD% values

Event Data URL (the HALO is the server):
  --serve-port <port>        HTTP server for /api/config/gstate/event_state and
                             /api/config/gstate/config/eventgen/events
  --serve-https-port <port>  the same over HTTPS with a self-signed certificate
  --serve-host <addr>        bind address (default 127.0.0.1)
  --auth <mode>              none | basic | digest | any (default none)
  --username <u>             (default admin)   --password <p> (default halo)
  --algorithms <list>        Digest algorithms offered (default SHA-256,MD5)

Control:
  --control-port <port>      tiny HTTP control port on 127.0.0.1:
                               GET /set?event=Vape[&value=9]   GET /reset?event=Vape
                               GET /test?event=Help            GET /heartbeat
                               GET /state
  stdin                      the same as lines: "set Vape 9", "reset Vape", "test Help",
                             "heartbeat", "state", "quit"
  --quiet                    print only errors
  -h, --help                 this text

Examples:
  halo-sim --to tcp://127.0.0.1:6010 --heartbeat 10 --cycle 20
  halo-sim --serve-port 6012 --auth digest --username admin --password halo
  halo-sim --to udp://127.0.0.1:6011 --send set:Vape --send reset:Vape --once
  halo-sim --to http://127.0.0.1:1880/halo --shape nested --push-auth key1:s3cret --send set:Vape --once
  curl 'http://127.0.0.1:6014/set?event=Help'
`;

const OPTIONS = {
  to: { type: 'string', multiple: true },
  'set-template': { type: 'string' },
  'reset-template': { type: 'string' },
  'heartbeat-template': { type: 'string' },
  'keep-open': { type: 'boolean' },
  shape: { type: 'string' },
  'push-auth': { type: 'string' },
  heartbeat: { type: 'string' },
  cycle: { type: 'string' },
  'cycle-events': { type: 'string' },
  send: { type: 'string', multiple: true },
  once: { type: 'boolean' },
  name: { type: 'string' },
  mac: { type: 'string' },
  ip: { type: 'string' },
  user: { type: 'string' },
  pswd: { type: 'string' },
  'serve-port': { type: 'string' },
  'serve-https-port': { type: 'string' },
  'serve-host': { type: 'string' },
  ...SERVER_AUTH_OPTIONS,
  algorithms: { type: 'string' },
  'control-port': { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

runCli('halo-sim', HELP, OPTIONS, async (o) => {
  const targets: PushTarget[] = (o.to ?? []).map(parseTarget);
  const auth = authModeValue(o.auth);
  const algorithms = (o.algorithms ?? 'SHA-256,MD5').split(',').map((a) => a.trim()) as DigestAlgorithm[];
  for (const a of algorithms) if (!['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'].includes(a)) throw new CliError(`unknown Digest algorithm "${a}"`);
  const shape = (o.shape ?? 'recommended') as PushShape;
  if (shape !== 'recommended' && !(shape in PARTNER_TEMPLATES)) throw new CliError('--shape must be recommended, flat or nested');
  const shaped = shape === 'recommended' ? RECOMMENDED_TEMPLATES : PARTNER_TEMPLATES[shape];
  let pushAuth: { username: string; password: string } | undefined;
  if (o['push-auth'] !== undefined) {
    const colon = o['push-auth'].indexOf(':');
    if (colon < 0) throw new CliError('--push-auth must be <key>:<secret>');
    pushAuth = { username: o['push-auth'].slice(0, colon), password: o['push-auth'].slice(colon + 1) };
  }
  const quiet = o.quiet === true;
  const log = (line: string): void => {
    if (!quiet) process.stdout.write(`[halo-sim] ${line}\n`);
  };
  const httpPort = portValue(o['serve-port'], '--serve-port');
  const httpsPort = portValue(o['serve-https-port'], '--serve-https-port');
  const sim = new HaloSim({
    device: { name: o.name ?? 'HALO-Sim', mac: o.mac ?? 'AABBCCDDEEFF', ip: o.ip ?? '127.0.0.1', user: o.user, pswd: o.pswd },
    targets,
    templates: {
      set: o['set-template'] ?? shaped.set,
      reset: o['reset-template'] ?? shaped.reset,
      heartbeat: o['heartbeat-template'] ?? RECOMMENDED_TEMPLATES.heartbeat,
    },
    pushAuth,
    tcpKeepOpen: o['keep-open'] === true,
    heartbeatMs: (secondsValue(o.heartbeat, '--heartbeat') ?? 0) * 1000,
    cycleMs: (secondsValue(o.cycle, '--cycle') ?? 0) * 1000,
    cycleEvents: o['cycle-events']?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    serve: httpPort !== undefined || httpsPort !== undefined ? { httpPort, httpsPort, host: o['serve-host'] ?? '127.0.0.1', auth, username: o.username ?? 'admin', password: o.password ?? 'halo', algorithms } : undefined,
    controlPort: portValue(o['control-port'], '--control-port'),
    log,
  });
  try {
    await sim.start();
  } catch (e) {
    await sim.close();
    throw new CliError(`cannot start: ${(e as Error).message}`);
  }
  const shutdown = stopOnSignals(() => sim.close());
  const p = sim.ports;
  if (p.http !== undefined) log(`Event Data URL: http://${o['serve-host'] ?? '127.0.0.1'}:${p.http}/api/config/gstate/event_state (auth ${auth})`);
  if (p.https !== undefined) log(`Event Data URL: https://${o['serve-host'] ?? '127.0.0.1'}:${p.https}/api/config/gstate/event_state (self-signed, auth ${auth})`);
  if (p.control !== undefined) log(`control: http://127.0.0.1:${p.control}/set?event=Vape`);
  if (targets.length > 0) log(`pushing to ${targets.map((t) => `${t.protocol}://${t.host}:${t.port}`).join(', ')}`);

  const run = async (line: string): Promise<void> => {
    const [cmd = '', event = '', value] = line.trim().split(/\s+/);
    if (cmd === '') return;
    if (cmd === 'quit' || cmd === 'exit') return shutdown();
    const n = value !== undefined && Number.isFinite(Number(value)) ? Number(value) : undefined;
    const r = await sim.command(cmd, event, n);
    if (r === undefined) process.stderr.write(`halo-sim: unknown command or event: ${line.trim()}\n`);
    else if (cmd === 'state') process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  };

  for (const s of o.send ?? []) {
    const m = /^(set|reset|test|heartbeat)(?::([^=]+)(?:=(.+))?)?$/.exec(s);
    if (!m) throw new CliError(`--send "${s}": expected set:<event>[=value], reset:<event>, test:<event> or heartbeat`);
    await run(`${m[1]} ${m[2] ?? ''} ${m[3] ?? ''}`);
  }

  if (o.once) return shutdown();

  if (process.stdin.isTTY || !process.stdin.readableEnded) {
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => void run(line).catch((e: Error) => process.stderr.write(`halo-sim: ${e.message}\n`)));
    rl.on('error', () => undefined);
  }
});
