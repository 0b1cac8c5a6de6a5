import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { RECOMMENDED_TEMPLATES } from '../../../lib/halo/decode';
import { compileTemplate, TOUCHING_TOKENS } from '../../../lib/halo/template';
import { KNOWN_TOKENS } from '../../../lib/halo/tokens';

const root = path.resolve(__dirname, '..', '..', '..', '..');
const bin = path.join(root, 'dist', 'bin', 'halo-sim.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('halo-sim CLI and editor strings', () => {
  it('--help documents the options and exits 0; a bad option exits 2', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    for (const opt of ['--to', '--heartbeat', '--cycle', '--send', '--serve-port', '--serve-https-port', '--auth', '--control-port']) assert.ok(r.stdout.includes(opt), opt);
    const bad = await run(['--nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option/);
  });

  it('--send set:<event> --once pushes one set message over TCP and exits', async () => {
    const got: string[] = [];
    const server = net.createServer((s) => s.on('data', (d) => got.push(d.toString())));
    // the simulator exits after --once, so its connection closes once the message is all here
    const received = new Promise<void>((r) => server.once('connection', (s: net.Socket) => s.once('close', () => r())));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const r = await run(['--to', `tcp://127.0.0.1:${port}`, '--name', 'Cli', '--send', 'set:Vape=9', '--once', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    await received;
    server.close();
    const msg = JSON.parse(got.join('').trim()) as Record<string, string>;
    assert.deepEqual([msg.type, msg.name, msg.event, msg.value], ['set', 'Cli', 'Vape', '9']);
  });

  it('--shape nested --push-auth key:secret pushes the partner shape with HTTP Basic credentials', async () => {
    const got: Array<{ auth?: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ auth: req.headers.authorization, body });
        res.end('OK');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const r = await run(['--to', `http://127.0.0.1:${port}/halo`, '--name', 'Cli', '--shape', 'nested', '--push-auth', 'key-1:se:cret', '--send', 'set:Vape', '--once', '--quiet']);
    server.close();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(got.length, 1);
    assert.equal(got[0].auth, `Basic ${Buffer.from('key-1:se:cret').toString('base64')}`);
    const msg = JSON.parse(got[0].body) as { data: { event: { id: string }; device: { name: string }; status: string } };
    assert.deepEqual([msg.data.event.id, msg.data.device.name, msg.data.status], ['Vape', 'Cli', 'Set']);
    const bad = await run(['--shape', 'round']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--shape must be recommended, flat or nested/);
  });

  it('the halo-in editor offers exactly the recommended strings of the library', () => {
    const html = fs.readFileSync(path.join(root, 'nodes', 'halo-in', 'halo-in.html'), 'utf8');
    for (const t of Object.values(RECOMMENDED_TEMPLATES)) assert.ok(html.includes(t.replace(/\\/g, '\\\\')), t);
  });

  it('the halo-in editor flags touching tokens with the library token lists, as the library refuses them', () => {
    const html = fs.readFileSync(path.join(root, 'nodes', 'halo-in', 'halo-in.html'), 'utf8');
    const list = (name: string): string[] => {
      const m = new RegExp(`var ${name} = \\[([^\\]]*)\\]`).exec(html);
      assert.ok(m, name);
      return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
    };
    assert.deepEqual(list('TOKENS').sort(), [...KNOWN_TOKENS].sort());
    assert.deepEqual(list('TOUCHING').sort(), [...TOUCHING_TOKENS].sort());
    // the editor's scan (run here as the browser would) agrees with compileTemplate on samples
    const fn = /function isToken[\s\S]*?function template/.exec(html)?.[0].replace(/function template$/, '') ?? '';
    const touching = new Function('TOKENS', 'TOUCHING', `${fn}; return touchingTokens;`)(list('TOKENS'), list('TOUCHING')) as (t: string) => string;
    for (const t of ['%NAME%%EID% %VAL%', '%MAC%%NAME%!', '%IP%%MAC%%VAL%', 'a\\n%NAME%/%EID%', '%FOO%%NAME%', '%SENSOR:RH%%EID%', '50%%NAME%', RECOMMENDED_TEMPLATES.set]) {
      let refused = false;
      try {
        compileTemplate(t);
      } catch {
        refused = true;
      }
      assert.equal(touching(t) !== '', refused, t);
    }
  });
});
