/**
 * The nine /metrics fields for a Node-RED process (lib/api/metrics.ts), including the
 * reference's unit cases for the loop statistics (docs/camera-alarm.md §8.7), and the API's
 * `server` section member.
 */
import assert from 'node:assert/strict';
import { ProcessMetrics, countInetSockets } from '../../../lib/api/metrics';
import { serverSection } from '../../../lib/api/section';
import { skipBecause } from '../../helpers/skip';

const one = (s: number) => ({ loopAvgS: s, loopMaxS: s, loopMinS: s, frames: 1, engine: 'test' });

describe('api metrics (lib/api/metrics)', function () {
  it('loop statistics: mean of [1,1,2,3] = 1.75, max of [1,4,7] = 7, min of [1,4,7] = 1, empty = 0.0', async function () {
    const m = new ProcessMetrics({ countSockets: async () => 4 });
    for (const s of [1, 1, 2, 3]) m.note(one(s));
    assert.equal((await m.sample(1000)).loopAvgS, 1.75);
    for (const s of [1, 4, 7]) m.note(one(s));
    const b = await m.sample(2000);
    assert.equal(b.loopMaxS, 7);
    assert.equal(b.loopMinS, 1);
    assert.equal(b.loopAvgS, 4);
    const empty = await m.sample(3000);
    assert.deepEqual([empty.loopAvgS, empty.loopMaxS, empty.loopMinS], [0, 0, 0]);
    assert.equal(empty.timeStamp, 3);
    assert.equal(empty.socketConnections, 4);
  });

  it('folds aggregated detector reports weighted by frame count; ignores empty reports', async function () {
    const m = new ProcessMetrics({ countSockets: async () => 0 });
    m.note({ loopAvgS: 0.002, loopMaxS: 0.003, loopMinS: 0.001, frames: 3, engine: 'sharp' });
    m.note({ loopAvgS: 0.006, loopMaxS: 0.009, loopMinS: 0.004, frames: 1, engine: 'sharp' });
    m.note({ loopAvgS: 5, loopMaxS: 5, loopMinS: 5, frames: 0, engine: 'sharp' });
    const s = await m.sample(0);
    assert.ok(Math.abs(s.loopAvgS - 0.003) < 1e-12);
    assert.equal(s.loopMaxS, 0.009);
    assert.equal(s.loopMinS, 0.001);
  });

  it('first CPU sample is 0 (psutil semantics); later ones measure this process; memory as % of RAM', async function () {
    const m = new ProcessMetrics({ countSockets: async () => undefined, fallbackSockets: () => 7 });
    const a = await m.sample(0);
    assert.equal(a.sysCpuPercent, 0);
    assert.equal(a.capCpuPercent, 0);
    assert.equal(a.socketConnections, 7, 'fallback when /proc is unavailable');
    const until = Date.now() + 30;
    while (Date.now() < until) Math.sqrt(Math.random()); // burn a little CPU
    m.note({ loopAvgS: 0.01, loopMaxS: 0.01, loopMinS: 0.01, frames: 1, engine: 'x' });
    const b = await m.sample(1000);
    assert.ok(b.sysCpuPercent > 0, `cpu ${b.sysCpuPercent}`);
    assert.ok(b.capCpuPercent > 0);
    assert.ok(b.sysMemPercent > 0 && b.sysMemPercent < 100);
    assert.ok(b.capMemPercent >= 0 && b.capMemPercent < 100);
  });

  it('counts inet sockets of this process on Linux', async function () {
    const n = await countInetSockets();
    if (n === undefined) skipBecause(this, `inet socket count: no /proc/self/net on ${process.platform}`);
    assert.equal(typeof n, 'number');
  });
});

describe('api server section (lib/api/section)', function () {
  it('serves host and ports; validates types; apply changes nothing (fixed while running)', function () {
    const s = serverSection(() => ({ host: '0.0.0.0', port: 9876 }));
    assert.equal(s.section, 'server');
    assert.deepEqual(s.get(), { host_name: '0.0.0.0', video_save_dir: '', websocket_port: 9876, webserver_port: 9876 });
    assert.deepEqual(s.validate({ host_name: 'x', websocket_port: 1, webserver_port: '8080', timezone: 'Pacific/Auckland' }), []);
    assert.deepEqual(s.validate({ host_name: 5, websocket_port: 'abc' }), [
      { loc: ['server', 'host_name'], msg: 'str type expected', type: 'type_error.str' },
      { loc: ['server', 'websocket_port'], msg: 'value is not a valid integer', type: 'type_error.integer' },
    ]);
    s.apply({ host_name: 'elsewhere', websocket_port: 1 });
    assert.deepEqual(s.get(), { host_name: '0.0.0.0', video_save_dir: '', websocket_port: 9876, webserver_port: 9876 });
    assert.equal(serverSection(() => ({ host: 'h', port: 1880, path: '/vigil' })).get().path, '/vigil');
  });
});
