/**
 * The shared editor script (resources/vigil-editor.js) loaded into a bare `vm` context with
 * just enough of the browser, jQuery and RED for its validators — so tests check the exact
 * code the editor runs. With no edit dialog open, `VigilEditor.value(node, key)` reads the node.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

export const editorRoot = path.resolve(__dirname, '..', '..', '..');

export type Validator = (this: Record<string, unknown> | void, v: unknown) => boolean;

/** `VigilEditor.validate`: factories returning validators (see resources/vigil-editor.js). */
export interface EditorValidators {
  int(min: number, max?: number): Validator;
  number(min: number, max?: number): Validator;
  port(): Validator;
  host(): Validator;
  match(re: RegExp): Validator;
  oneOf(list: unknown[]): Validator;
  optional(check: Validator): Validator;
  all(...checks: Validator[]): Validator;
  when(key: string, values: unknown[], check: Validator): Validator;
  unless(key: string, values: unknown[], check: Validator): Validator;
  atMost(key: string): Validator;
  time(): Validator;
  timezone(): Validator;
  chatIds(): Validator;
  contextStore(): Validator;
  httpUrl(): Validator;
}

export interface VigilEditorApi {
  validate: EditorValidators;
  value(node: Record<string, unknown> | undefined, key: string): unknown;
}

export function loadEditorHelpers(): VigilEditorApi {
  const empty = { length: 0 };
  const context: Record<string, unknown> = {
    document: { getElementById: () => null, createElement: () => ({}), head: { appendChild: () => undefined } },
    RED: {
      settings: {},
      validators: { regex: (re: RegExp) => (v: unknown) => re.test(String(v)) },
      nodes: { getType: () => undefined },
      events: { on: () => undefined },
    },
    $: () => empty,
    Intl,
    setTimeout,
  };
  context.window = context;
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(path.join(editorRoot, 'resources', 'vigil-editor.js'), 'utf8'), context, { filename: 'vigil-editor.js' });
  return context.VigilEditor as VigilEditorApi;
}
