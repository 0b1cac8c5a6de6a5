/**
 * nodes/kit.ts in a Node-RED runtime: the scope frees listeners and timers and awaits its
 * cleanups at close, refuse, the typed system hub, mountRoute/unmount on the Express of the
 * Node-RED under test (4, or 5 for test:nr5), the context slot, readNumber / readNumbers.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { FakeClock } from '../../lib/common/clock';
import * as kit from '../../nodes/kit';
import { helper, redExpress } from '../helpers/nodered';

/** Record a node method's calls made during the close too (the helper's spies end before it). */
function record(node: Node, method: 'error' | 'status'): unknown[] {
  const list: unknown[] = [];
  (node as unknown as Record<string, (a: unknown) => void>)[method] = (a: unknown) => list.push(a);
  return list;
}

type Build = (RED: NodeAPI, node: Node, config: NodeDef & Record<string, unknown>) => void;
let build: Build = () => undefined;
const testModule = (RED: NodeAPI): void => {
  RED.nodes.registerType('kit-test', function (this: Node, config: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    build(RED, this, config);
  });
};

async function serve(listener: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('nodes/kit', function () {
  afterEach(async () => {
    build = () => undefined;
    helper.settings({});
    await helper.unload();
  });

  it('scope: listeners and timers live until the close, which awaits the deferred cleanups', async () => {
    const clock = new FakeClock();
    helper.settings({ vigilClock: clock } as never);
    const emitter = new EventEmitter();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    let scope: kit.Scope | undefined;
    let status: unknown[] = [];
    build = (RED, node) => {
      status = record(node, 'status');
      const s = kit.scope(RED, node);
      scope = s;
      s.listen(emitter, 'x', (v: string) => seen.push(v));
      s.every(1000, () => seen.push('tick'));
      s.after(1500, () => seen.push('once'));
      s.defer(() => new Promise<void>((r) => (release = r)));
      s.defer(() => seen.push('deferred'));
    };
    await helper.load(testModule, [{ id: 'k', type: 'kit-test' }]);
    emitter.emit('x', 'a');
    clock.advance(2000);
    assert.deepEqual(seen, ['a', 'tick', 'once', 'tick']);
    assert.equal(scope?.clock, clock);
    let closed = false;
    const closing = helper.unload().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(scope?.closed, true);
    assert.equal(scope?.signal.aborted, true);
    assert.equal(emitter.listenerCount('x'), 0);
    assert.equal(clock.pending, 0);
    assert.deepEqual(seen.slice(4), ['deferred']);
    assert.equal(closed, false, 'the close waits for the deferred promise');
    release();
    await closing;
    assert.deepEqual(status, [{}]);
  });

  it('scope: a throwing or rejecting cleanup and a failed tracked promise are logged, the close still ends', async () => {
    let errors: unknown[] = [];
    build = (RED, n) => {
      errors = record(n, 'error');
      const s = kit.scope(RED, n);
      s.defer(() => {
        throw new Error('boom');
      });
      s.defer(() => Promise.reject(new Error('late')));
      void s.track(Promise.reject(new Error('run failed')));
    };
    await helper.load(testModule, [{ id: 'k', type: 'kit-test' }]);
    await helper.unload();
    const texts = errors.map(String).sort();
    assert.deepEqual(texts, ['boom', 'late', 'run failed']);
  });

  it('refuse: red status, the error, failing inputs, an empty close', async () => {
    build = (_RED, node) => kit.refuse(node, 'no URL set', 'x.status.noUrl');
    await helper.load(testModule, [{ id: 'k', type: 'kit-test' }]);
    const node = helper.getNode('k');
    const failed = new Promise<unknown[]>((resolve) =>
      (node as unknown as EventEmitter).on('call:error', (c: { args: unknown[] }) => {
        if (c.args[1] !== undefined) resolve(c.args); // (the construction's own error comes on a later tick)
      }),
    );
    node.receive({ payload: 1 });
    const [err, msg] = await failed;
    assert.match(String(err), /no URL set/);
    assert.equal((msg as { payload?: unknown }).payload, 1);
  });

  it('systemHub: the hub of the selected vigil-system node, undefined otherwise', async () => {
    const hub = new EventEmitter();
    let got: unknown[] = [];
    const fakeSystem = (RED: NodeAPI): void => {
      RED.nodes.registerType('fake-system', function (this: Node & { hub: unknown }, config: NodeDef) {
        RED.nodes.createNode(this, config);
        this.hub = hub;
      });
    };
    build = (RED, _node, config) => (got = [kit.systemHub(RED, config.system as string), kit.systemHub(RED, undefined), kit.systemHub(RED, 'missing')]);
    await helper.load([fakeSystem, testModule], [{ id: 'sys', type: 'fake-system' }, { id: 'k', type: 'kit-test', system: 'sys' }] as never);
    assert.deepEqual(got, [hub, undefined, undefined]);
  });

  it('mountRoute: routes on the runtime httpNode answer until unmounted', async () => {
    let unmount: () => void = () => undefined;
    let app: http.RequestListener | undefined;
    build = (RED) => {
      app = RED.httpNode as unknown as http.RequestListener;
      unmount = kit.mountRoute(RED, ['get', 'post'], ['/kit', '/kit/x'], (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('kit'));
    };
    await helper.load(testModule, [{ id: 'k', type: 'kit-test' }]);
    assert.ok(app);
    const srv = await serve(app);
    try {
      assert.equal(await (await fetch(`${srv.url}/kit/x`, { method: 'POST' })).text(), 'kit');
      unmount();
      assert.equal((await fetch(`${srv.url}/kit`)).status, 404);
    } finally {
      await srv.close();
    }
  });

  it("mountRoute: on the Express of the Node-RED under test, unmount removes only its own routes", async () => {
    const app = redExpress()();
    const RED = { httpNode: app } as unknown as NodeAPI;
    const other = kit.mountRoute(RED, 'get', '/other', (_q: http.IncomingMessage, res: http.ServerResponse) => res.end('other'));
    const mine = kit.mountRoute(RED, ['get', 'options'], ['/a', '/a/:file'], (_q: http.IncomingMessage, res: http.ServerResponse) => res.end('a'));
    const srv = await serve(app);
    try {
      assert.equal(await (await fetch(`${srv.url}/a/f.js`)).text(), 'a');
      assert.equal((await fetch(`${srv.url}/a`, { method: 'OPTIONS' })).status, 200);
      mine();
      mine(); // twice is harmless
      assert.equal((await fetch(`${srv.url}/a/f.js`)).status, 404);
      assert.equal(await (await fetch(`${srv.url}/other`)).text(), 'other');
      other();
      assert.equal((await fetch(`${srv.url}/other`)).status, 404);
    } finally {
      await srv.close();
    }
    assert.equal(kit.hasHttpNode({ httpNode: undefined } as unknown as NodeAPI), false);
    assert.throws(() => kit.mountRoute({} as NodeAPI, 'get', '/x', () => undefined), /httpNodeRoot/);
  });

  it('contextSlot: saved to the store and the runtime copy; loaded from the store, else the copy', async () => {
    const memory = new Map<string, { n: number }>();
    let slot: kit.ContextSlot<{ n: number }> | undefined;
    build = (_RED, node) => (slot = kit.contextSlot(node, memory, 'state', undefined));
    await helper.load(testModule, [{ id: 'k', type: 'kit-test' }]);
    assert.ok(slot);
    const s = slot;
    const errors: unknown[] = [];
    s.save({ n: 1 }, (e) => errors.push(e));
    assert.deepEqual(memory.get('k'), { n: 1 });
    assert.deepEqual(await new Promise((r) => s.load(r, (e) => errors.push(e))), { n: 1 });
    assert.deepEqual(helper.getNode('k').context().get('state'), { n: 1 });
    // a redeploy without a persistent store: the context is gone, the runtime copy answers
    helper.getNode('k').context().set('state', undefined);
    s.remember({ n: 2 });
    assert.deepEqual(await new Promise((r) => s.load(r, (e) => errors.push(e))), { n: 2 });
    s.remember(undefined);
    assert.equal(memory.has('k'), false);
    assert.deepEqual(errors, []);
  });

  it('readNumber: one reader for numeric settings', () => {
    assert.equal(kit.readNumber(undefined, 5), 5);
    assert.equal(kit.readNumber('', 5), 5);
    assert.equal(kit.readNumber('  ', 5, { min: 0 }), 5);
    assert.equal(kit.readNumber(' 7 ', 5), 7);
    assert.equal(kit.readNumber(7.6, 5, { integer: true }), 8);
    assert.ok(Number.isNaN(kit.readNumber('abc', 5)), 'as typed when unbounded, for validation to report');
    assert.equal(kit.readNumber('abc', 5, { min: 0 }), 5);
    assert.equal(kit.readNumber(500, 5, { min: 1, max: 120 }), 120);
    assert.equal(kit.readNumber(-3, 5, { min: 1, max: 120 }), 1);
    assert.equal(kit.readNumber(Infinity, 5, {}), 5);
  });

  it('readNumbers: every numeric setting of the defaults read as typed, the rest left to the caller', () => {
    const defaults = { fps: 2, weight: 0.5, engine: 'auto' };
    assert.deepEqual(kit.readNumbers({ fps: ' 5 ', engine: 'sharp' }, defaults), { fps: 5, weight: 0.5, engine: 'auto' });
    assert.ok(Number.isNaN(kit.readNumbers({ weight: 'x' }, defaults).weight), 'as typed, for validation to report');
  });
});
