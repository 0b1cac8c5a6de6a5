#!/usr/bin/env node
/**
 * isotel-sim: an Isotel IoT stand-in (the IoT side of the Service API) in one command.
 * Run `isotel-sim --help` for the options.
 */
import { CliError, intValue, portValue, runCli, serveUntilSignal } from '../lib/common/cli';
import { IsotelSim, SimParameter } from '../lib/isotel/sim';

const HELP = `isotel-sim — an Isotel IoT stand-in for the Service API (demos and tests)

Usage: isotel-sim [options]

  --host <addr>           bind address (default 127.0.0.1)
  --port <n>              Service TCP server port services connect to (default 6020)
  --http-port <n>         HTTP front port (default 6021; 0 = any free port)
  --param <uri>[@<ms>]    a device parameter that changes every <ms> (default 1000) and
                          SIGNALs its subscribers; repeat for more. Default parameters:
                          /me/device0/ec/E @1000, /me/device0/ec/T @2000, /me/device1/th/H @5000
  --refuse <uri>          answer CONNECT <uri> with {"status":"Error"} (repeatable;
                          unknown URIs are always refused)
  --request-timeout <ms>  how long an HTTP request waits for the service (default 30000)
  --stop-as-request       relay ?action=stop as the request {"action":"stop"} instead of
                          sending STOP (the other form the IoT may use)
  --quiet                 no log lines
  -h, --help              this text

Service TCP server (what a service sees):
  IDENT …                 names the service; GET …?action=ident is relayed as
                          {"action":"ident"} and answered from the IDENT reply
  CONNECT <uri>[\\r\\n{"debounce_time":ms,"send_data":bool}]
                          → CONNECT <uri> {"status":"OK"|"Error"}, then
                          SIGNAL <uri> {"status":"OK","<last segment>":{"value":"12.75"},"time":"<s.ms>"}
                          at most once per debounce_time (the latest value wins);
                          send_data:false leaves the value out
  DISCONNECT <uri>        ends that subscription; a bare DISCONNECT unbinds the service
  NOTIFY {…}              appended to the activity log (module defaults to the service
                          name, severity to API, receiver to null; message is required)
  REPLY / HREPLY          answer the oldest relayed HTTP request (FIFO)

HTTP front (http://<host>:<http-port>):
  GET|POST /api/v1/me/services/<name>[.json]?<query>
                          relayed to the service as one JSON object: the query
                          parameters (a JSON object POSTed is merged in; any other body
                          goes in "body"); answered from REPLY (200, JSON or text) or
                          HREPLY (its status, MIME and body); 504 if no answer in time,
                          503 if the service is not connected
  …?action=stop           sends STOP to the service (with --stop-as-request: relayed
                          as {"action":"stop"} and answered from the service's REPLY)
  GET /api/v1/me/services list of connected services
  GET /api/v1/me          list of simulated devices
  GET /api/v1/me/activity.json[?limit=n]  the NOTIFY log, oldest first

Example:
  isotel-sim --port 6020 --http-port 6021 &
  curl 'http://127.0.0.1:6021/api/v1/me/services/vigil-demo?action=ident'
`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'http-port': { type: 'string' },
  param: { type: 'string', multiple: true },
  refuse: { type: 'string', multiple: true },
  'request-timeout': { type: 'string' },
  'stop-as-request': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

runCli('isotel-sim', HELP, OPTIONS, async (o) => {
  const host = o.host ?? '127.0.0.1';
  const port = portValue(o.port, '--port') ?? 6020;
  const httpPort = portValue(o['http-port'], '--http-port') ?? 6021;
  const requestTimeoutMs = intValue(o['request-timeout'], '--request-timeout', 1, 65535 * 1000) ?? 30000;
  const params: SimParameter[] = (o.param ?? []).map((v) => {
    const [uri, ms] = v.split('@');
    if (!uri || /\s/.test(uri)) throw new CliError(`bad parameter URI ${JSON.stringify(uri)}`);
    return { uri, intervalMs: intValue(ms, '--param interval', 1, 65535 * 1000) ?? 1000 };
  });
  const log = o.quiet ? undefined : (line: string) => process.stdout.write(`[isotel-sim] ${line}\n`);
  const sim = new IsotelSim({ host, port, httpPort, params: params.length > 0 ? params : undefined, refuse: o.refuse ?? [], requestTimeoutMs, stopAs: o['stop-as-request'] ? 'request' : 'keyword', log });
  const addr = await serveUntilSignal(sim, host, port);
  process.stdout.write(
    `[isotel-sim] Service TCP server on ${host}:${addr.port}, HTTP front on http://${host}:${addr.httpPort}/api/v1/me/services/<name>, parameters ${sim.parameterUris.join(', ')}\n`,
  );
});
