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
 * The simulators listed in scripts/demo-sims.json, as child processes. `{editorPort}` in their
 * arguments becomes `opts.editorPort` (the Node-RED the demo runs in; default 1880), so the
 * HALO simulator's HTTP push reaches the demo's endpoint on whatever port it was started.
 */
function startSims(opts = {}) {
  const list = demoSims();
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
    children.push({ name: sim.name, child });
  }
  return {
    children,
    stop() {
      return Promise.all(
        children.map(
          ({ child }) =>
            new Promise((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const t = setTimeout(() => child.kill('SIGKILL'), 3000);
              child.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
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
  const url = `http://127.0.0.1:${o.port}/`;
  const ready = (async () => {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode}:\n${lines.slice(-30).join('\n')}`);
      try {
        const r = await fetch(`${url}settings`);
        if (r.ok) return;
      } catch {
        /* not yet listening */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('Node-RED did not answer within 60 s');
  })();
  return {
    child,
    lines,
    url,
    ready,
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const t = setTimeout(() => child.kill('SIGKILL'), 15000);
        child.once('exit', (code) => {
          clearTimeout(t);
          resolve(code);
        });
        child.kill('SIGINT');
      });
    },
  };
}

module.exports = { root, pkg, demoFlows, splitCredentials, exampleFiles, prepareUserDir, demoSims, simArgs, startSims, startNodeRed };
