// A Node-RED user directory with Vigil installed the way the palette manager installs it
// (a module in <userDir>/node_modules, listed in <userDir>/package.json), the demo
// simulators, and a Node-RED child process. Used by `npm start` and the browser tests.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Every flow file under examples/demo, merged into one flow array (one tab per file). */
function demoFlows() {
  const dir = path.join(root, 'examples', 'demo');
  const out = [];
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    if (!f.endsWith('.json')) continue;
    const flow = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    if (!Array.isArray(flow)) throw new Error(`examples/demo/${f} is not a flow array`);
    out.push(...flow);
  }
  return out;
}

/** Every example flow file (relative paths), demo included. */
function exampleFiles() {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push(path.relative(path.join(root, 'examples'), p));
    }
  };
  if (fs.existsSync(path.join(root, 'examples'))) walk(path.join(root, 'examples'));
  return out.sort();
}

/**
 * Node-RED reads credentials from flows_cred.json, never from a `credentials` property in
 * flows.json (only the editor's Import and the admin API take them inline). Split them.
 */
function splitCredentials(flows) {
  const plain = [];
  const creds = {};
  for (const n of flows) {
    if (n && typeof n === 'object' && n.credentials && typeof n.credentials === 'object') {
      const { credentials, ...rest } = n;
      creds[n.id] = credentials;
      plain.push(rest);
    } else plain.push(n);
  }
  return { flows: plain, credentials: creds };
}

/**
 * Create (or refresh) a user directory.
 * @param {{dir: string, port: number, host?: string, flows?: unknown[] | null, logLevel?: string}} o
 *   flows: written to flows.json when given (null/undefined leaves an existing file alone).
 */
function prepareUserDir(o) {
  const dir = path.resolve(o.dir);
  fs.mkdirSync(path.join(dir, 'node_modules', '@vigil-iot'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'vigil-node-red-userdir', description: 'Node-RED user directory for Vigil', version: '0.0.0', private: true, dependencies: { [pkg.name]: `file:${path.relative(dir, root) || '.'}` } }, null, 2) + '\n',
  );
  const link = path.join(dir, 'node_modules', ...pkg.name.split('/'));
  let ok = false;
  try {
    ok = fs.realpathSync(link) === fs.realpathSync(root);
  } catch {
    ok = false;
  }
  if (!ok) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(path.relative(path.dirname(link), root), link, 'dir');
  }
  const settings = `// Written by Vigil's scripts/nodered-env.js for the demo and the browser tests.
module.exports = {
  uiHost: ${JSON.stringify(o.host || '127.0.0.1')},
  uiPort: ${Number(o.port)},
  flowFile: 'flows.json',
  flowFilePretty: true,
  // Demo/test user directory (git-ignored): credentials stay unencrypted in flows_cred.json so
  // the demo's stand-in secrets can be written there directly.
  credentialSecret: false,
  contextStorage: { default: { module: 'localfilesystem' }, memory: { module: 'memory' } },
  logging: { console: { level: ${JSON.stringify(o.logLevel || 'info')}, metrics: false, audit: false } },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  editorTheme: { tours: false, projects: { enabled: false }, palette: {} },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
};
`;
  fs.writeFileSync(path.join(dir, 'settings.js'), settings);
  if (o.flows) {
    const { flows, credentials } = splitCredentials(o.flows);
    fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flows, null, 2));
    fs.writeFileSync(path.join(dir, 'flows_cred.json'), JSON.stringify(credentials, null, 2));
  }
  return dir;
}

function prefixLines(stream, prefix, sink) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      sink(prefix && line.startsWith(prefix.trim()) ? line : `${prefix}${line}`);
      buf = buf.slice(i + 1);
    }
  });
}

/** A simulator's arguments with `{name}` placeholders filled from `vars` (unknown ones kept). */
function simArgs(sim, vars) {
  return (sim.args || []).map((a) => a.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m)));
}

/** The simulator list of the demo (scripts/demo-sims.json). */
function demoSims() {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'demo-sims.json'), 'utf8'));
}

/**
 * Stop a child process: `signal` (default SIGTERM), then SIGKILL if it is still running after
 * `killAfterMs` (default 5 s). Resolves with its exit code (null when a signal ended it) once it
 * has exited; at once if it already had.
 */
function stopChild(child, { signal = 'SIGTERM', killAfterMs = 5000 } = {}) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill(signal);
  });
}

/**
 * The simulators listed in scripts/demo-sims.json, as child processes. `{editorPort}` in their
 * arguments becomes `opts.editorPort` (the Node-RED the demo runs in; default 1880), so the
 * HALO simulator's HTTP push reaches the demo's endpoint on whatever port it was started.
 * A simulator that fails before `stop()` (a non-zero code, a kill) is reported through `opts.onExit` (default: the log).
 */
function startSims(opts = {}) {
  const list = opts.list || demoSims();
  const vars = { editorPort: opts.editorPort ?? 1880 };
  const log = opts.log || ((s) => console.log(s));
  const children = [];
  for (const sim of list) {
    const bin = path.join(root, sim.bin);
    if (!fs.existsSync(bin)) {
      log(`[sims] ${sim.name}: ${sim.bin} is not built; skipped`);
      continue;
    }
    const child = spawn(process.execPath, [bin, ...simArgs(sim, vars)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    prefixLines(child.stdout, `[${sim.name}] `, log);
    prefixLines(child.stderr, `[${sim.name}] `, log);
    child.on('error', (e) => log(`[${sim.name}] failed to start: ${e.message}`));
    // A simulator that fails on its own is a finding (the demo, or a test, loses its peer): say so.
    // A clean exit (code 0, or the Ctrl-C / SIGTERM the terminal sent the whole group) is not.
    child.on('exit', (code, signal) => {
      const clean = code === 0 || signal === 'SIGINT' || signal === 'SIGTERM';
      if (!stopping && !clean) (opts.onExit || log)(`[${sim.name}] exited unexpectedly (${signal || `code ${code}`})`);
    });
    children.push({ name: sim.name, child });
  }
  let stopping = false;
  return {
    children,
    stop() {
      stopping = true;
      return Promise.all(children.map(({ child }) => stopChild(child, { killAfterMs: 3000 })));
    },
  };
}

/**
 * Where each simulator reports the port it bound for a listen option (its start-up line,
 * printed unless --quiet): what lets the tests start every simulator on port 0.
 */
const SIM_REPORTS = {
  'camera-sim': { '--port': /on http:\/\/[^\s:]+:(\d+)\/stream/ },
  'telegram-sim': { '--port': /stand-in on http:\/\/[^\s:]+:(\d+)/ },
  'siren-sim': { '--port': /SSH siren on [^\s:]+:(\d+)/ },
  'isotel-sim': { '--port': /Service TCP server on [^\s:]+:(\d+)/, '--http-port': /HTTP front on http:\/\/[^\s:]+:(\d+)/ },
  'halo-sim': { '--serve-port': /Event Data URL: http:\/\/[^\s:]+:(\d+)/, '--serve-https-port': /Event Data URL: https:\/\/[^\s:]+:(\d+)/, '--control-port': /control: http:\/\/[^\s:]+:(\d+)/ },
};

/** The demo port each simulator listens on, per option: [{ sim, flag, port }]. */
function simListenPorts(list = demoSims()) {
  const out = [];
  for (const sim of list) {
    const reports = SIM_REPORTS[path.basename(sim.bin, '.js')] || {};
    const args = sim.args || [];
    for (let i = 0; i < args.length - 1; i++) if (reports[args[i]]) out.push({ sim: sim.name, flag: args[i], port: Number(args[i + 1]) });
  }
  return out;
}

/** Ports a flow text names (`127.0.0.1:<port>`, `"port": <port>` or `"port": "<port>"`). */
function flowPorts(text) {
  const out = new Set();
  for (const m of text.matchAll(/(?:127\.0\.0\.1:|"port":\s*"?)(\d{2,5})\b/g)) out.add(Number(m[1]));
  return out;
}

/** `text` (a flow, or a simulator argument) with every port of `map` (old → new) moved. */
function movePorts(text, map) {
  return text.replace(/(127\.0\.0\.1:|"port":\s*"?)(\d{2,5})\b/g, (m, pre, port) => (map.has(Number(port)) ? `${pre}${map.get(Number(port))}` : m));
}

/**
 * The demo simulators for a test: every listen option on port 0, the bound port read from the
 * simulator's own report; `targets` (demo port → port) moves the ports they send to (the
 * flow's listeners in Node-RED). Resolves with `ports` (demo port → bound port) once every
 * simulator has reported, so the flows can be moved onto them with movePorts.
 * @param {{editorPort: number, targets?: Map<number, number>, log?: (s: string) => void}} o
 */
async function startSimsOnFreePorts(o) {
  const list = demoSims();
  const listen = simListenPorts(list);
  const ports = new Map();
  const waiting = [];
  const sims = list.map((sim) => {
    const mine = listen.filter((l) => l.sim === sim.name);
    const args = [];
    const given = simArgs(sim, { editorPort: o.editorPort });
    for (let i = 0; i < given.length; i++) {
      if (given[i] === '--quiet') continue; // the start-up lines carry the ports
      if (mine.some((l) => l.flag === given[i])) {
        args.push(given[i], '0');
        i++;
      } else args.push(o.targets ? movePorts(given[i], o.targets) : given[i]);
    }
    return { ...sim, args };
  });
  const log = o.log || (() => {});
  const reports = [];
  const recent = [];
  const sink = (line) => {
    for (const r of reports) r(line);
    recent.push(line);
    if (recent.length > 200) recent.shift();
    log(line);
  };
  // Quiet while they run; a simulator that dies is printed with its last lines.
  const onExit = (line) => {
    const prefix = line.slice(0, line.indexOf('] ') + 2);
    console.error([line, ...recent.filter((l) => l.startsWith(prefix)).slice(-20).map((l) => `  ${l}`)].join('\n'));
  };
  const running = startSims({ list: sims, log: sink, onExit, editorPort: o.editorPort });
  for (const l of listen) {
    const re = SIM_REPORTS[path.basename(list.find((s) => s.name === l.sim).bin, '.js')][l.flag];
    waiting.push(
      new Promise((resolve) => {
        reports.push((line) => {
          const m = line.startsWith(`[${l.sim}] `) ? re.exec(line) : null;
          if (m && !ports.has(l.port)) {
            ports.set(l.port, Number(m[1]));
            resolve();
          }
        });
      }),
    );
  }
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`simulators did not report their ports within 30 s (have ${[...ports.keys()].join(', ') || 'none'})`)), 30000);
  });
  try {
    await Promise.race([Promise.all(waiting), timeout]);
  } catch (err) {
    await running.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { ...running, ports };
}

/**
 * Start Node-RED (the project's own devDependency unless `redJs` is given) on a user dir.
 * Resolves once the editor answers; `lines` collects every log line.
 */
function startNodeRed(o) {
  const redJs = o.redJs || require.resolve('node-red/red.js', { paths: [root] });
  const nodeBin = o.nodeBin || process.execPath;
  const lines = [];
  const log = o.log || (() => {});
  const child = spawn(nodeBin, [redJs, '--userDir', o.dir, '--port', String(o.port)], {
    cwd: o.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const sink = (s) => {
    lines.push(s);
    log(s);
  };
  prefixLines(child.stdout, '', sink);
  prefixLines(child.stderr, '', sink);
  // With port 0 Node-RED binds a free port and reports it: "Server now running at http://127.0.0.1:<port>/".
  let port = Number(o.port) || 0;
  const ready = (async () => {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode}:\n${lines.slice(-30).join('\n')}`);
      if (!port) {
        const m = lines.map((l) => /Server now running at https?:\/\/[^\s/]*:(\d+)\//.exec(l)).find(Boolean);
        if (m) port = Number(m[1]);
      }
      if (port) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/settings`);
          if (r.ok) return;
        } catch {
          /* not yet listening */
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('Node-RED did not answer within 60 s');
  })();
  return {
    child,
    lines,
    /** The editor's port (the bound one when started on port 0; known once `ready`). */
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}/`;
    },
    ready,
    stop() {
      return stopChild(child, { signal: 'SIGINT', killAfterMs: 15000 });
    },
  };
}

module.exports = { root, pkg, stopChild, demoFlows, splitCredentials, exampleFiles, prepareUserDir, demoSims, simArgs, startSims, startNodeRed, simListenPorts, flowPorts, movePorts, startSimsOnFreePorts };
