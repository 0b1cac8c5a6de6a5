/**
 * The hostile suite's own tools (test/helpers/hostile.ts): the loop-delay measurement sees a
 * real stall and prints it, the wide-margin assertion holds for a quiet loop and fails for a
 * stall above it, and the "still answering" check talks to a real HTTP server.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { assertLoopDelay, deepArray, deepObject, noUncaught, prng, stillAnswering, underAttack } from '../helpers/hostile';

describe('hostile helpers', () => {
  it('measures the largest event-loop delay of an attack and asserts it with a wide margin', async () => {
    const quiet = await underAttack('helper self-test: quiet loop', async () => {
      await new Promise((r) => setTimeout(r, 30));
      return 42;
    });
    assert.equal(quiet.result, 42);
    assertLoopDelay(quiet);
    const stalled = await underAttack('helper self-test: a 150 ms busy loop', () => {
      const until = performance.now() + 150;
      while (performance.now() < until) {
        /* block the loop on purpose */
      }
    });
    assert.ok(stalled.maxMs >= 100, `a 150 ms stall measured as ${stalled.maxMs} ms`);
    assert.throws(() => assertLoopDelay(stalled, 100), /blocked for/);
  });

  it('still answering: a GET on a live server; a closed one fails', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    assert.equal(await stillAnswering(server), 200);
    const addr = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    await assert.rejects(stillAnswering(`http://127.0.0.1:${addr.port}`));
  });

  it('noUncaught names an exception thrown from a socket-like callback', async () => {
    await assert.rejects(
      noUncaught('self-test', async () => {
        // A rejected promise nobody handles: what an unguarded async handler leaves behind.
        void Promise.reject(new RangeError('boom'));
        await new Promise((r) => setTimeout(r, 10));
      }),
      /self-test: \d+ uncaught exception\(s\), the first: RangeError: boom/,
    );
  });

  it('generators: deep text, reproducible randomness', () => {
    assert.equal(deepArray(3), '[[[1]]]');
    assert.equal(deepObject(2), '{"a":{"a":1}}');
    const a = prng(7);
    const b = prng(7);
    assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
  });
});
