/**
 * The test helper's RED._ returns bare catalog keys; these tests assert the real texts
 * (e.g. that a warning names the remote), so give a node module its real catalog.
 */
import fs from 'node:fs';
import type { NodeAPI } from 'node-red';
import { repoRoot } from '../../helpers/nodered';

export function withCatalog(mod: (RED: NodeAPI) => void, type: string): (RED: NodeAPI) => void {
  const catalog = JSON.parse(fs.readFileSync(`${repoRoot}/dist/nodes/${type}/locales/en-US/${type}.json`, 'utf8')) as Record<string, unknown>;
  return (RED: NodeAPI) => {
    (RED as unknown as { _: (key: string, subs?: Record<string, unknown>) => string })._ = (key, subs) => {
      let v: unknown = catalog;
      for (const part of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
      if (typeof v !== 'string') return key;
      return v.replace(/__(\w+)__/g, (_m, name: string) => String(subs?.[name] ?? ''));
    };
    mod(RED);
  };
}

