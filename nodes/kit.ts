/**
 * The adapter kit: what every Vigil node needs from Node-RED, written once (plain functions).
 *
 *   const fps = readNumber(config.fps, 15, { min: 0, max: 120 });
 *   if (!url) return refuse(this, RED._('x.errors.noUrl'), 'x.status.noUrl'); // instead of a scope
 *   const s = scope(RED, this);                        // owns listeners, timers, cleanups, close
 *   const hub = systemHub(RED, config.system);         // the selected vigil-system's hub, typed
 *   const cam = new Camera(settings, { clock: s.clock });
 *   s.listen(cam, 'frame', (f: Buffer) => this.send({ payload: f })); // off at close
 *   if (hub) s.listen(hub, 'shutdown', () => cam.stop());
 *   s.every(1000, refreshStatus);                      // cleared at close
 *   s.defer(() => cam.close());                        // awaited at close (last added runs first)
 *   this.on('input', (msg, send: Send, done: Done) => { … });
 *
 * The close frees listeners and timers first, then runs the deferred cleanups, awaits what
 * they return and every `track`ed promise (at most CLOSE_WAIT_MS), clears the status and
 * calls Node-RED's done. `mountRoute` is the one place that knows Express router internals;
 * `contextSlot` is the one persisted-state helper; `readNumber` the one numeric setting reader.
 * CONTRIBUTING.md has a whole node.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { type Clock, type TimerHandle, systemClock } from '../lib/common/clock';
import type { SystemHub } from '../lib/system/hub';

/** A readable message from anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** The flow-wide clock tests inject through Node-RED's settings (`settings.vigilClock`, a FakeClock). */
export function flowClock(RED: NodeAPI): Clock | undefined {
  return (RED.settings as unknown as { vigilClock?: Clock }).vigilClock;
}

/** Node-RED's `send` and `done` of an input handler. */
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;

/** Anything with on/off (EventEmitter, SystemHub, a lib object). */
export interface Listenable {
  // `any` as in EventEmitter's own signature: the listener's arguments are the event's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, fn: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, fn: (...args: any[]) => void): unknown;
}

/** The longest a close waits for its cleanups (Node-RED gives up on a node after 15 s). */
export const CLOSE_WAIT_MS = 10_000;

export interface Scope {
  /** The flow clock (tests inject a FakeClock through settings.vigilClock), else the system's. */
  readonly clock: Clock;
  /** True from the moment the close begins. */
  readonly closed: boolean;
  /** Aborted when the close begins. */
  readonly signal: AbortSignal;
  /** `emitter.on(event, fn)` now, `off` at close; `fn` is not called once the close began. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the listener's arguments are the event's
  listen(emitter: Listenable, event: string, fn: (...args: any[]) => void): void;
  /** A clock interval, cleared at close. */
  every(ms: number, fn: () => void): TimerHandle;
  /** A clock timeout, cleared at close (and skipped once the close began). */
  after(ms: number, fn: () => void): TimerHandle;
  /** Run at close, last added first; a returned promise is awaited. Errors are logged. */
  defer(fn: (removed: boolean) => unknown): void;
  /** A promise awaited at close (e.g. a delivery in flight); its rejection is logged, never unhandled. */
  track<T>(p: Promise<T>): Promise<T | undefined>;
}

/** A per-node scope; registers the node's one close handler. */
export function scope(RED: NodeAPI, node: Node<object>, clock: Clock = flowClock(RED) ?? systemClock): Scope {
  const aborter = new AbortController();
  const offs: Array<() => void> = [];
  const defers: Array<(removed: boolean) => unknown> = [];
  const running = new Set<Promise<unknown>>();
  let closed = false;
  const s: Scope = {
    clock,
    get closed() {
      return closed;
    },
    signal: aborter.signal,
    listen(emitter, event, fn) {
      const guarded = (...args: unknown[]): void => {
        if (!closed) fn(...args);
      };
      emitter.on(event, guarded);
      offs.push(() => emitter.off(event, guarded));
    },
    every(ms, fn) {
      const h = clock.setInterval(fn, ms);
      offs.push(() => clock.clearInterval(h));
      return h;
    },
    after(ms, fn) {
      const h = clock.setTimeout(() => {
        if (!closed) fn();
      }, ms);
      offs.push(() => clock.clearTimeout(h));
      return h;
    },
    defer(fn) {
      defers.push(fn);
    },
    track(p) {
      const t = p.catch((err: unknown) => {
        node.error(errorMessage(err));
        return undefined;
      });
      running.add(t);
      void t.finally(() => running.delete(t));
      return t;
    },
  };
  node.on('close', (removed: boolean, done: () => void) => {
    closed = true;
    aborter.abort();
    const waits: Array<Promise<unknown>> = [...running];
    for (const off of offs.splice(0)) off();
    for (const fn of defers.splice(0).reverse()) {
      try {
        waits.push(Promise.resolve(fn(removed)).catch((err: unknown) => node.error(errorMessage(err))));
      } catch (err) {
        node.error(errorMessage(err));
      }
    }
    let cap: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => {
      cap = setTimeout(resolve, CLOSE_WAIT_MS);
      cap.unref();
    });
    void Promise.race([Promise.allSettled(waits), capped]).then(() => {
      clearTimeout(cap);
      node.status({});
      done();
    });
  });
  return s;
}

/**
 * A node that cannot work with its settings: red status, the reason as an error, every input
 * fails with it, and an empty close. Call it instead of `scope`, then return.
 */
export function refuse(node: Node<object>, reason: string, statusText: string = reason): void {
  node.status({ fill: 'red', shape: 'ring', text: statusText });
  node.error(reason);
  node.on('input', (_msg: unknown, _send: Send, done: Done) => done(new Error(reason)));
  node.on('close', (_removed: boolean, done: () => void) => done());
}

/** A config node selected by id, typed as its contract (e.g. `HaloSensorNode`). */
export function configNode<T extends Node<object>>(RED: NodeAPI, id: string | undefined): T | undefined {
  if (!id) return undefined;
  return (RED.nodes.getNode(id) as T | null) ?? undefined;
}

/** The vigil-system config node: the contract between it and its members. */
export interface VigilSystemNode extends Node {
  hub: SystemHub;
}

/** The hub of the vigil-system selected by `id`, if any. */
export function systemHub(RED: NodeAPI, id: string | undefined): SystemHub | undefined {
  return configNode<VigilSystemNode>(RED, id)?.hub;
}

export type RouteMethod = 'all' | 'get' | 'post' | 'put' | 'delete' | 'options';
interface RouteLayer {
  route?: { stack?: Array<{ handle?: unknown }> };
}
type RoutingApp = Record<RouteMethod, (path: string, handler: unknown) => unknown> & {
  _router?: { stack: RouteLayer[] }; // Express 4 (Node-RED 4)
  router?: { stack: RouteLayer[] }; // Express 5 (Node-RED 5); a throwing getter in Express 4
};

/** True when Node-RED serves HTTP-in routes (`httpNodeRoot` not false). */
export function hasHttpNode(RED: NodeAPI): boolean {
  const app = RED.httpNode as unknown as Partial<RoutingApp> | undefined;
  return !!app && typeof app.all === 'function';
}

/**
 * Add `handler` for `methods` × `paths` to Node-RED's HTTP-in app (below httpNodeRoot);
 * returns the unmount, which removes exactly those routes (Express has no API for that).
 */
export function mountRoute(RED: NodeAPI, methods: RouteMethod | RouteMethod[], paths: string | string[], handler: (...args: never[]) => unknown): () => void {
  if (!hasHttpNode(RED)) throw new Error('Node-RED serves no HTTP-in routes (httpNodeRoot is false)');
  const app = RED.httpNode as unknown as RoutingApp;
  for (const p of ([] as string[]).concat(paths)) for (const m of ([] as RouteMethod[]).concat(methods)) app[m](p, handler);
  return () => {
    const stack = (app._router ?? app.router)?.stack;
    if (!stack) return;
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i].route?.stack?.some((l) => l.handle === handler)) stack.splice(i, 1);
  };
}

/**
 * One persisted value of a node: kept in a context store (`store`, e.g. a file store) and in
 * a per-runtime copy (`memory`, one Map per node type, made in the module function), because
 * Node-RED deletes a node's context at every redeploy when no persistent store is configured.
 */
export interface ContextSlot<T> {
  /** The stored value (the store's, else the runtime copy); a store error goes to `onError`. */
  load(cb: (value: T | undefined) => void, onError: (err: unknown) => void): void;
  /** Store `value` (undefined deletes it) in both places; a store error goes to `onError`. */
  save(value: T | undefined, onError: (err: Error) => void): void;
  /** Keep `value` in the runtime copy only (undefined: forget it, e.g. when the node was removed). */
  remember(value: T | undefined): void;
}

export function contextSlot<T>(node: Node<object>, memory: Map<string, T>, key: string, store: string | undefined): ContextSlot<T> {
  const ctx = node.context();
  const remember = (value: T | undefined): void => {
    if (value === undefined) memory.delete(node.id);
    else memory.set(node.id, value);
  };
  return {
    load(cb, onError) {
      try {
        ctx.get(key, store, (err: Error | undefined, value: unknown) => {
          if (err) onError(err);
          cb(((err ? undefined : value) as T | undefined) ?? memory.get(node.id));
        });
      } catch (err) {
        onError(err);
        cb(memory.get(node.id));
      }
    },
    save(value, onError) {
      remember(value);
      ctx.set(key, value, store, (err?: Error) => {
        if (err) onError(err);
      });
    },
    remember,
  };
}

/** Bounds for {@link readNumber}. */
export interface NumberLimits {
  min?: number;
  max?: number;
  /** Round to a whole number. */
  integer?: boolean;
}

/**
 * The one way to read a numeric editor setting (a number or a numeric string). Empty → the
 * fallback. With `limits`, unreadable → the fallback and the value is clamped (and rounded);
 * without, it comes as typed (NaN when unreadable) so validation can report it.
 */
export function readNumber(value: unknown, fallback: number, limits?: NumberLimits): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!limits) return n;
  if (!Number.isFinite(n)) return fallback;
  const c = Math.min(limits.max ?? Infinity, Math.max(limits.min ?? -Infinity, n));
  return limits.integer ? Math.round(c) : c;
}

/** The username/password credentials of HTTP Basic/Digest auth (halo-in, halo-sensor, vigil-camera). */
export interface LoginCredentials {
  username?: string;
  password?: string;
}

/** Their declaration: `RED.nodes.registerType(type, Ctor, { credentials: LOGIN_CREDENTIALS })`. */
export const LOGIN_CREDENTIALS = { username: { type: 'text' }, password: { type: 'password' } } as const;

/** A node's editor settings for lib settings `T`: each may be missing, a number may come as text. */
export type EditorSettings<T> = { [K in keyof T]?: T[K] extends number ? number | string : T[K] };

/**
 * `defaults` with each numeric setting read from `config` by readNumber, as typed (not clamped:
 * the lib's validation reports it); other settings stay the defaults, for the caller to read.
 */
export function readNumbers<T extends object>(config: EditorSettings<T>, defaults: T): T {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof T>) {
    const fallback = defaults[key];
    if (typeof fallback === 'number') out[key] = readNumber(config[key], fallback) as T[keyof T];
  }
  return out;
}
