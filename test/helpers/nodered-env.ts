/**
 * Typed access to scripts/nodered-env.js (plain JS, shared with `npm start`).
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';

export interface RunningNodeRed {
  child: ChildProcess;
  lines: string[];
  /** The editor's port: the bound one when started on port 0 (known once `ready`). */
  readonly port: number;
  readonly url: string;
  ready: Promise<void>;
  stop(): Promise<number | null>;
}

export interface NodeRedEnv {
  root: string;
  pkg: { name: string; 'node-red': { nodes: Record<string, string> } };
  demoFlows(): Array<Record<string, unknown>>;
  exampleFiles(): string[];
  prepareUserDir(o: { dir: string; port: number; host?: string; flows?: unknown[] | null; logLevel?: string }): string;
  startSims(o?: { log?: (s: string) => void; editorPort?: number }): { stop(): Promise<void> };
  simListenPorts(): Array<{ sim: string; flag: string; port: number }>;
  flowPorts(text: string): Set<number>;
  movePorts(text: string, map: Map<number, number>): string;
  startSimsOnFreePorts(o: { editorPort: number; targets?: Map<number, number>; log?: (s: string) => void }): Promise<{ stop(): Promise<void>; ports: Map<number, number> }>;
  /** SIGTERM (or `signal`), SIGKILL after `killAfterMs` (5 s); resolves with the exit code once it has exited. */
  stopChild(child: ChildProcess, o?: { signal?: NodeJS.Signals; killAfterMs?: number }): Promise<number | null>;
  startNodeRed(o: { dir: string; port: number; log?: (s: string) => void; redJs?: string; nodeBin?: string }): RunningNodeRed;
}

const repoRoot = path.resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain-JS script shared with `npm start`
export const env = require(path.join(repoRoot, 'scripts', 'nodered-env.js')) as NodeRedEnv;
