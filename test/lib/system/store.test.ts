import assert from 'node:assert/strict';
import { contextStoreInfo, storeWarningDue } from '../../../lib/system/store';

describe('lib/system/store: which context store, and does it survive a restart', () => {
  it('no contextStorage: Node-RED\'s in-memory default', () => {
    assert.deepEqual(contextStoreInfo(undefined), { store: 'memory', persistent: false });
    assert.deepEqual(contextStoreInfo({}, ''), { store: 'memory', persistent: false });
    assert.deepEqual(contextStoreInfo(undefined, 'file'), { store: 'memory', persistent: false });
  });

  it('a localfilesystem default is persistent; a memory store is not', () => {
    const cs = { default: { module: 'localfilesystem' }, memory: { module: 'memory' } };
    assert.deepEqual(contextStoreInfo(cs), { store: 'default', persistent: true });
    assert.deepEqual(contextStoreInfo(cs, 'default'), { store: 'default', persistent: true });
    assert.deepEqual(contextStoreInfo(cs, 'memory'), { store: 'memory', persistent: false });
  });

  it('resolves the default as Node-RED does: an alias, else the first store listed; unknown names fall back to it', () => {
    const alias = { default: 'file', mem: { module: 'memory' }, file: { module: 'localfilesystem' } };
    assert.deepEqual(contextStoreInfo(alias, ''), { store: 'file', persistent: true });
    assert.deepEqual(contextStoreInfo(alias, 'mem'), { store: 'mem', persistent: false });
    const first = { mem: { module: 'memory' }, file: { module: 'localfilesystem' } };
    assert.deepEqual(contextStoreInfo(first, ''), { store: 'mem', persistent: false });
    assert.deepEqual(contextStoreInfo(first, 'nope'), { store: 'mem', persistent: false });
    assert.deepEqual(contextStoreInfo(first, 'file'), { store: 'file', persistent: true });
  });

  it('any other module (e.g. a Redis store, or a module object) counts as persistent', () => {
    assert.deepEqual(contextStoreInfo({ default: { module: 'redis' } }), { store: 'default', persistent: true });
    assert.deepEqual(contextStoreInfo({ default: { module: () => ({}) } }), { store: 'default', persistent: true });
  });

  it('says a warning is due once per node and store, never for a persistent store', () => {
    const warned = new Set<string>();
    assert.deepEqual(storeWarningDue(warned, 'n1', undefined), { store: 'memory', persistent: false });
    assert.equal(storeWarningDue(warned, 'n1', undefined), undefined, 'once');
    assert.deepEqual(storeWarningDue(warned, 'n2', undefined), { store: 'memory', persistent: false }, 'per node');
    assert.equal(storeWarningDue(warned, 'n3', { default: { module: 'localfilesystem' } }), undefined);
  });
});
