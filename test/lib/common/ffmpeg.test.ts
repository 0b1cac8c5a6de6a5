import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUNDLED_PACKAGE, FfmpegNotFoundError, findFf, findFfmpeg, findFfprobe, onPath } from '../../../lib/common/ffmpeg';

describe('ffmpeg lookup (lib/common/ffmpeg)', function () {
  let dir: string;
  let fake: string;
  const missing = (pkg: string): never => {
    throw Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });
  };

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ff-'));
    fake = path.join(dir, 'ffmpeg');
    fs.writeFileSync(fake, '#!/bin/sh\necho fake\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'ffprobe'), 'not executable\n', { mode: 0o644 });
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes ffmpeg on PATH first (system)', function () {
    const f = findFfmpeg({ env: { PATH: dir }, load: missing });
    assert.deepEqual([f.path, f.source, f.describe], [fake, 'system', `ffmpeg ${fake} (system)`]);
  });

  it('skips a non-executable file on PATH', function () {
    assert.equal(onPath('ffprobe', { PATH: dir }), null);
  });

  it('falls back to the npm-shipped binary when PATH has none', function () {
    const f = findFfmpeg({ env: { PATH: '' }, load: () => ({ path: fake }) });
    assert.equal(f.source, 'bundled');
    assert.equal(f.describe, `ffmpeg ${fake} (bundled, ${BUNDLED_PACKAGE.ffmpeg})`);
  });

  it('VIGIL_FFMPEG=bundled skips PATH; VIGIL_FFMPEG=system skips the package', function () {
    assert.equal(findFfmpeg({ env: { PATH: dir, VIGIL_FFMPEG: 'bundled' }, load: () => ({ path: fake }) }).source, 'bundled');
    assert.throws(
      () => findFfmpeg({ env: { PATH: '', VIGIL_FFMPEG: 'system' }, load: () => ({ path: fake }) }),
      (err: Error) => err instanceof FfmpegNotFoundError && /no ffmpeg on PATH/.test(err.message) && /VIGIL_FFMPEG=system/.test(err.message),
    );
    assert.throws(() => findFfmpeg({ env: { VIGIL_FFMPEG: 'newest' } }), /VIGIL_FFMPEG must be "system" or "bundled"/);
  });

  it('names everything it tried when nothing is found', function () {
    assert.throws(
      () => findFfmpeg({ env: { PATH: '' }, load: missing }),
      (err: Error) =>
        err instanceof FfmpegNotFoundError &&
        err.tried.length === 2 &&
        err.message.startsWith('ffmpeg not found: no ffmpeg on PATH; npm package @ffmpeg-installer/ffmpeg not installed.') &&
        /apt-get install ffmpeg/.test(err.message),
    );
    // The package throws on a platform it has no build for; that reason is passed on.
    assert.throws(
      () =>
        findFfmpeg({
          env: { PATH: '' },
          load: () => {
            throw new Error('Unsupported platform/architecture: sunos-sparc');
          },
        }),
      /npm package @ffmpeg-installer\/ffmpeg: Unsupported platform\/architecture: sunos-sparc/,
    );
    assert.throws(() => findFfmpeg({ env: { PATH: '' }, load: () => ({ path: path.join(dir, 'gone') }) }), /is not an executable file/);
  });

  it('a configured path wins over PATH and VIGIL_FFMPEG; a wrong one is an error, not a fallback', function () {
    const f = findFfmpeg({ configured: fake, env: { PATH: '', VIGIL_FFMPEG: 'bundled' }, load: missing });
    assert.deepEqual([f.path, f.source], [fake, 'setting']);
    assert.equal(findFfmpeg({ configured: 'ffmpeg', env: { PATH: dir } }).source, 'setting', 'a bare name is searched on PATH');
    assert.throws(() => findFfmpeg({ configured: path.join(dir, 'nope'), env: { PATH: dir } }), (err: Error) => err instanceof FfmpegNotFoundError && /configured path ".*nope" is not an executable file/.test(err.message));
    assert.throws(() => findFfmpeg({ configured: 'nope', env: { PATH: dir } }), /"nope" is not on PATH/);
  });

  // The real packages: @ffmpeg-installer/ffmpeg (optional dependency) and
  // @ffprobe-installer/ffprobe (development dependency) must install and run here.
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    it(`the npm-shipped ${tool} (${BUNDLED_PACKAGE[tool]}) runs`, function () {
      const f = findFf(tool, { env: { ...process.env, VIGIL_FFMPEG: 'bundled' } });
      assert.equal(f.source, 'bundled');
      const r = spawnSync(f.path, ['-hide_banner', '-version'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${tool} version`));
    });
  }

  it('findFfprobe looks ffprobe up the same way', function () {
    assert.equal(findFfprobe({ env: { PATH: '' }, load: () => ({ path: fake }) }).tool, 'ffprobe');
  });
});
