import assert from 'node:assert/strict';
import { FailureReport } from '../../../lib/camera/failures';
import { splitArgs } from '../../../lib/common/cli';

describe('camera: failure reporting', () => {
  it('two warnings, then an error; each once per change of error or level', () => {
    const r = new FailureReport();
    assert.deepEqual(['refused', 'refused', 'refused', 'refused', '401', '401'].map((e) => r.failed(e)), ['warn', undefined, 'error', undefined, 'error', undefined]);
    assert.equal(r.recovered(), true);
    assert.equal(r.recovered(), false, 'nothing to recover from twice');
    assert.equal(r.failed('refused'), 'warn', 'counting starts over after a frame');
  });

  it('a stall is warned once per change of error', () => {
    const r = new FailureReport();
    assert.deepEqual([r.stalled('no frame for 30 s'), r.stalled('no frame for 30 s'), r.stalled('other')], [true, false, true]);
    assert.equal(r.recovered(), true);
  });

  it('splitArgs: whitespace-separated, simple quotes kept together', () => {
    assert.deepEqual(splitArgs(`-rtsp_transport tcp -vf "scale=640:-1" '-an'`), ['-rtsp_transport', 'tcp', '-vf', 'scale=640:-1', '-an']);
    assert.deepEqual(splitArgs(undefined), []);
  });
});
