/**
 * Hostile requests against `/clips/<name>` (vigil-api serving a recorder's folder): random and
 * crafted path segments (traversal in every encoding, NUL, over-long, invalid UTF-8 escapes)
 * and hostile Range headers, raw over a socket so no client library normalises them. Nothing
 * outside the folder is ever served, every request gets an answer, nothing escapes a handler,
 * and the event loop keeps turning.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ApiServer } from '../../lib/api/server';
import { ClipFolder } from '../../lib/recorder/store';
import { SystemHub } from '../../lib/system/hub';
import { tempDir } from '../helpers/clips';
import { assertLoopDelay, noUncaught, prng, stillAnswering, underAttack } from '../helpers/hostile';

/** One raw request; resolves with the whole raw answer (status line, headers, body). */
function raw(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // written, not ended: a half-closed client may be dropped before an asynchronous answer
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

describe('hostile: /clips/<name> (vigil-api over a recorder folder)', function () {
  this.timeout(120_000);
  let cleanup: () => void;
  let api: ApiServer;
  let hub: SystemHub;
  let port: number;
  const good = '2026-12-06T01-00-00_ward-b.mp4';

  before(async function () {
    const t = tempDir('vigil-hostile-clips-');
    cleanup = t.cleanup;
    const folder = path.join(t.dir, 'clips');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, good), Buffer.alloc(4096, 1));
    fs.writeFileSync(path.join(t.dir, 'SECRET'), 'SECRET-CONTENT');
    fs.symlinkSync(path.join(t.dir, 'SECRET'), path.join(folder, '2026-12-06T02-00-00_ward-b.mp4'));
    hub = new SystemHub({ name: 'h' });
    hub.registerClipStore(new ClipFolder({ folder }));
    api = new ApiServer({ hub, token: 't', pingIntervalMs: 0 });
    port = await api.listen(0);
  });
  after(async function () {
    await api?.close();
    hub?.dispose();
    cleanup?.();
  });

  it('random and crafted names, hostile ranges: an answer each, nothing outside the folder, the loop turns', async function () {
    const rand = prng(15);
    const crafted = [
      '..%2fSECRET',
      '..%2f..%2fSECRET',
      '%2e%2e%2fSECRET',
      '%2e%2e%5cSECRET',
      '..%c0%afSECRET',
      '%252e%252e%252fSECRET',
      '.%2e/SECRET',
      '%2e./SECRET',
      '..%00/SECRET',
      `${good}%00`,
      `${good}/..`,
      '2026-12-06T02-00-00_ward-b.mp4',
      '%',
      '%zz',
      '%ff%fe',
      'a'.repeat(70_000),
    ];
    const alphabet = './\\%0123456789abcdefABCDEF-_:;?#&=+ \t~`!@$^*()[]{}<>|\'",';
    const names: string[] = [...crafted];
    for (let i = 0; i < 400; i++) {
      let n = '';
      const len = 1 + Math.floor(rand() * 40);
      for (let j = 0; j < len; j++) n += alphabet[Math.floor(rand() * alphabet.length)];
      names.push(n.replace(/[\s#?]/g, '%20'));
    }
    const ranges = ['bytes=0-', 'bytes=-1', 'bytes=99999999999999999999-', 'bytes=-99999999999999999999', 'bytes=5-1', 'bytes=0-0,0-0,0-0', 'bytes=' + '1'.repeat(5000) + '-', 'bytes=\u0000-1'];
    const delay = await noUncaught('clips fuzz', () =>
      underAttack('/clips/<name> fuzz, 424 raw requests', async () => {
        let i = 0;
        for (const n of names) {
          const range = ranges[i++ % ranges.length].replace(/[^\x20-\x7e]/g, '');
          const answer = await raw(port, `GET /clips/${n} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nRange: ${range}\r\nConnection: close\r\n\r\n`);
          const text = answer.toString('latin1');
          assert.match(text, /^HTTP\/1\.1 \d{3} /, `an answer for ${n.slice(0, 60)}`);
          assert.ok(!text.includes('SECRET-CONTENT'), `nothing outside the folder for ${n.slice(0, 60)}`);
          const status = Number(text.slice(9, 12));
          // a `..` segment is resolved by the URL parser first (`/clips/<good>/..` is the list)
          if ((status === 200 || status === 206) && /content-type: video\//i.test(text)) assert.equal(n, good, `only the clip itself is served (${n.slice(0, 60)} → ${status})`);
        }
      }),
    );
    assertLoopDelay(delay);
    // the real clip still serves, with its range
    const ok = (await raw(port, `GET /clips/${good} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nRange: bytes=10-19\r\nConnection: close\r\n\r\n`)).toString('latin1');
    assert.match(ok, /^HTTP\/1\.1 206 /);
    assert.match(ok, /Content-Range: bytes 10-19\/4096/i);
    await stillAnswering(`http://127.0.0.1:${port}`, '/health?access_token=t');
  });
});
