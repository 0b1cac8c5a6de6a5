/**
 * Which context store a node's data really lands in, and whether it survives a restart of
 * Node-RED. Framework-free: it reads the shape of Node-RED's `contextStorage` setting
 * (settings.js) the way the runtime resolves it:
 * - no `contextStorage` (or an empty one): one in-memory store;
 * - a store name the settings do not list (and '' = the default) falls back to the default
 *   store: `default` when listed (a string `default` is an alias of another store), else the
 *   first store listed;
 * - a store is persistent unless its `module` is the built-in `memory` (`localfilesystem`,
 *   or any other module, e.g. a Redis store, is taken as persistent).
 */

export interface ContextStoreInfo {
  /** The store the data goes to ('memory' when none is configured). */
  store: string;
  /** Whether that store keeps its data across a restart of Node-RED. */
  persistent: boolean;
}

/** The example shown in warnings and help. */
export const PERSISTENT_STORE_EXAMPLE = "contextStorage: { default: { module: 'localfilesystem' } }";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolve `requested` ('' or undefined = the default store) against a `contextStorage` setting. */
export function contextStoreInfo(contextStorage: unknown, requested?: string): ContextStoreInfo {
  const stores = isObject(contextStorage) ? contextStorage : {};
  const names = Object.keys(stores).filter((n) => n !== '_' && stores[n] !== undefined && stores[n] !== null);
  if (names.length === 0) return { store: 'memory', persistent: false };
  const entryOf = (name: string): Record<string, unknown> | undefined => (isObject(stores[name]) ? stores[name] : undefined);

  let name = (requested ?? '').trim();
  if (name === '' || name === 'default' || !entryOf(name)) {
    // The default store: an alias, the `default` entry, or the first one listed.
    const d = stores.default;
    if (typeof d === 'string') name = d;
    else if (entryOf('default')) name = 'default';
    else name = names.find((n) => n !== 'default' && entryOf(n)) ?? '';
  }
  const entry = entryOf(name);
  if (!entry) return { store: name || 'memory', persistent: false };
  return { store: name, persistent: entry.module !== 'memory' };
}

/**
 * The store to warn about for node `nodeId` when it is not persistent, once per node and store
 * (`warned` is the caller's per-runtime memory: only a restart can change settings.js);
 * undefined when the store is persistent or the warning was given already.
 */
export function storeWarningDue(warned: Set<string>, nodeId: string, contextStorage: unknown, requested?: string): ContextStoreInfo | undefined {
  const info = contextStoreInfo(contextStorage, requested);
  const key = `${nodeId}\u0000${info.store}`;
  if (info.persistent || warned.has(key)) return undefined;
  warned.add(key);
  return info;
}
