/**
 * Node-RED with Vigil installed as a user module plus the demo simulators, for the browser
 * tests, on no fixed port: Node-RED and every simulator listen on port 0 and report the port
 * they bound; the flows (the demo, the examples) are moved onto those ports with `move()`.
 * Only the listeners inside the flows themselves (halo-in's TCP/UDP ports, vigil-api's own
 * port) get ports picked before the flow is deployed, since a flow names its port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, type RunningNodeRed } from './nodered-env';
import { freePort, repoRoot } from './nodered';

export interface DemoRig {
  nr: RunningNodeRed;
  userDir: string;
  /** Demo port → the port it runs on here (simulators' bound ports, the flows' own listeners). */
  ports: Map<number, number>;
  /** A flow text (or JSON of one) with its demo ports moved to this rig's. */
  move(text: string): string;
  stop(): Promise<void>;
}

/**
 * @param o.demoOnDisk write the moved demo flows into the user directory and have Node-RED
 *   reload them from there (the `npm start` path); else Node-RED runs with no flows.
 */
export async function startDemoRig(o: { prefix: string; demoOnDisk?: boolean }): Promise<DemoRig> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), o.prefix));
  const simPorts = new Set(env.simListenPorts().map((l) => l.port));
  const named = new Set<number>();
  for (const f of env.exampleFiles()) for (const p of env.flowPorts(fs.readFileSync(path.join(repoRoot, 'examples', f), 'utf8'))) named.add(p);
  // The flows' own listeners (not a simulator's): a flow must name its port before it is deployed.
  const targets = new Map<number, number>();
  for (const p of [...named].sort((a, b) => a - b)) if (!simPorts.has(p)) targets.set(p, await freePort());
  env.prepareUserDir({ dir: userDir, port: 0, flows: [] });
  const nr = env.startNodeRed({ dir: userDir, port: 0 });
  let sims: { stop(): Promise<void>; ports: Map<number, number> } | undefined;
  const stop = async (): Promise<void> => {
    await nr.stop();
    await sims?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  try {
    await nr.ready;
    sims = await env.startSimsOnFreePorts({ editorPort: nr.port, targets });
    const ports = new Map([...targets, ...sims.ports]);
    const move = (text: string): string => env.movePorts(text, ports);
    if (o.demoOnDisk) {
      env.prepareUserDir({ dir: userDir, port: nr.port, flows: JSON.parse(move(JSON.stringify(env.demoFlows()))) as unknown[] });
      const r = await fetch(`${nr.url}flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'reload' }, body: '{}' });
      if (!r.ok) throw new Error(`reloading the flows from disk failed: ${r.status} ${await r.text()}`);
    }
    return { nr, userDir, ports, move, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
