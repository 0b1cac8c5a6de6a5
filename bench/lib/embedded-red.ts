/**
 * Node-RED embedded in a bench's child process as in production (`RED.init`/`RED.start`, no
 * test-helper spies), with `flows` in a fresh user directory where Vigil is installed, logging
 * errors only, no editor or HTTP nodes. The benches that measure a whole Node-RED use it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a bench uses of Node-RED's embedding API (node-red ships no typings for it). */
export interface EmbeddedRed {
  start(): Promise<void>;
  stop(): Promise<void>;
  hooks: { add(id: string, cb: (evt: { msg: { payload?: unknown; timestamp?: unknown }; destination: { id: string } }) => void): void };
  nodes: { getNode(id: string): unknown };
  /** The user directory (removed by the caller when done). */
  dir: string;
}

export function embedNodeRed(prefix: string, flows: object[]): EmbeddedRed {
  const root = path.resolve(__dirname, '..', '..', '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the project's own CommonJS helper
  const env = require(path.join(root, 'scripts', 'nodered-env.js')) as { prepareUserDir(o: { dir: string; port: number; flows: object[]; logLevel?: string }): string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  env.prepareUserDir({ dir, port: 0, flows, logLevel: 'error' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- node-red has no bundled typings for its embedding API
  const RED = require('node-red') as Omit<EmbeddedRed, 'dir'> & { init(server: unknown, settings: object): void };
  RED.init(null, {
    userDir: dir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    logging: { console: { level: 'error', metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
  });
  return { start: () => RED.start(), stop: () => RED.stop(), hooks: RED.hooks, nodes: RED.nodes, dir };
}
