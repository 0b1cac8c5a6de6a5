/**
 * Shared set-up for node tests: one test-helper initialised against the Node-RED under
 * test (the devDependency, or the one named by VIGIL_NODE_RED, e.g. Node-RED 5 for
 * `npm run test:nr5`), plus small utilities every node test needs.
 */
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI } from 'node-red';
import { FakeClock } from '../../lib/common/clock';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const redPath = process.env.VIGIL_NODE_RED ? require.resolve(process.env.VIGIL_NODE_RED) : require.resolve('node-red');
helper.init(redPath);

export { helper };
export { settle, until } from './wait';

/**
 * A core node module (e.g. `core/common/25-catch.js`) from the Node-RED under test — not
 * from the devDependency — so test:nr5 registers Node-RED 5's own catch/status nodes.
 */
/** A node module as Node-RED loads it (what `helper.load` takes). */
export type RedModule = (RED: NodeAPI) => void;

export function coreNode(rel: string): RedModule {
  const file = require.resolve(`@node-red/nodes/${rel}`, { paths: [path.dirname(redPath)] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a core node file of the Node-RED under test
  return require(file) as RedModule;
}

/**
 * The Express of the Node-RED under test (4 for Node-RED 4, 5 for Node-RED 5): the test
 * helper's own runtime always uses Express 4, so code that knows Express internals is also
 * run against this one.
 */
export function redExpress(): () => import('node:http').RequestListener {
  const file = require.resolve('express', { paths: [path.dirname(redPath)] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the Express of the Node-RED under test
  return require(file) as () => import('node:http').RequestListener;
}

/** The repository root (tests run from dist/test/...). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Require a built node module by type, e.g. `nodeModule('halo-in')`. */
export function nodeModule(type: string): RedModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built node file, by type
  return require(path.join(repoRoot, 'dist', 'nodes', type, `${type}.js`)) as RedModule;
}

/** Every message node `id` receives from now on (typically a `helper` node behind the node under test). */
export function collect<T>(id: string): T[] {
  const out: T[] = [];
  (helper.getNode(id) as Node).on('input', (m: unknown) => out.push(m as T));
  return out;
}

/** A port nobody listens on, for "connection refused" tests only (test/helpers/ports.ts). */
export { freePort } from './ports';

/**
 * Load `flow` with the node module `mod` and keep the runtime API it registered with
 * (`RED.httpNode`, `RED.server`, …), for what the test helper does not serve itself.
 */
export async function loadKeepingRED(mod: (RED: NodeAPI) => void, flow: unknown[], credentials?: Record<string, unknown>): Promise<NodeAPI> {
  let captured: NodeAPI | undefined;
  const keep = (RED: NodeAPI): void => {
    captured = RED;
    mod(RED);
  };
  await helper.load(keep as never, flow as never, credentials as never);
  if (!captured) throw new Error('the node module was never registered');
  return captured;
}

/**
 * Serve a request listener (an Express app such as `RED.httpNode`, which the test helper
 * mounts on no server of its own) on 127.0.0.1, port 0. The caller closes the server.
 */
export async function serveOnLoopback(listener: unknown): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(listener as http.RequestListener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** One recorded call of a spied node method (the test helper's `call:<method>` events). */
export interface SpyCall {
  args: unknown[];
}

/** Record, from now on, the calls of `node.<method>` (error, warn, status, log, send…). */
export function calls(node: Node, method: 'error' | 'warn' | 'status' | 'log' | 'send'): SpyCall[] {
  const list: SpyCall[] = [];
  (node as unknown as { on(e: string, l: (c: SpyCall) => void): void }).on(`call:${method}`, (c) => list.push(c));
  return list;
}

/** The status texts of recorded `status` calls. */
export function statusTexts(list: SpyCall[]): string[] {
  return list.map((c) => String((c.args[0] as { text?: unknown } | undefined)?.text ?? ''));
}

/**
 * The port a listening node (halo-in, vigil-api) bound once it listens — given port 0, the
 * OS's pick: the node's `boundPort`.
 */
export function boundPort(node: Node): number | undefined {
  return (node as Node & { boundPort?: number }).boundPort;
}

/**
 * Like `until`, on a flow driven by a FakeClock: between polls, a timer due within `stepMs`
 * (a request spacing, a 1 s poll interval) is fired at once instead of waited for; timers
 * further off (request timeouts, long intervals) stay pending. Every 20th timer fired in a
 * row is followed by a short real pause instead of one event-loop turn: a periodic timer
 * (a 50 fps file source) is always due, and work on the thread pool (a file read) needs real
 * time to finish, more of it on a busy machine.
 */
export async function untilClock(clock: FakeClock, predicate: () => boolean, what = 'condition', stepMs = 1000): Promise<void> {
  let fired = 0;
  for (let i = 0; i < 4000; i++) {
    if (predicate()) return;
    const next = clock.dueIn()[0];
    if (next !== undefined && next <= stepMs && ++fired % 20 !== 0) {
      clock.advance(Math.max(0, next));
      await new Promise((r) => setImmediate(r)); // let I/O that the timer started run
    } else await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Hooks for a describe block whose flows run on a FakeClock: before each test a new clock
 * (at `start`) becomes the flow clock (`settings.vigilClock`), is handed to `use`, and the
 * test helper's server starts; after each test the flow is unloaded, the server stopped and
 * the settings reset.
 */
export function eachTestOnFakeClock(start: number, use: (clock: FakeClock) => void): void {
  beforeEach(async () => {
    const clock = new FakeClock(start);
    use(clock);
    helper.settings({ vigilClock: clock } as unknown as Parameters<typeof helper.settings>[0]);
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    helper.settings({});
  });
}
