import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isValidChatId } from '../../../lib/alarm/telegram';
import { editorRoot, loadEditorHelpers } from '../../helpers/editor';

const V = loadEditorHelpers().validate;
const pkg = JSON.parse(fs.readFileSync(path.join(editorRoot, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };
const types = Object.keys(pkg['node-red'].nodes);
const editorHtml = (t: string): string => fs.readFileSync(path.join(editorRoot, 'nodes', t, `${t}.html`), 'utf8');
const helpHtml = (t: string): string => fs.readFileSync(path.join(editorRoot, 'nodes', t, 'locales', 'en-US', `${t}.html`), 'utf8');

describe('editor helpers (resources/vigil-editor.js)', () => {
  it('port: an integer 1…65535, never blank', () => {
    const port = V.port();
    assert.deepEqual(['', ' ', 0, '0', 65536, '6020.5', 'x', 1, 6020, '6020', 65535].map((v) => port(v)), [false, false, false, false, false, false, false, true, true, true, true]);
    const optional = V.optional(V.port());
    assert.deepEqual(['', undefined, '0', '443'].map((v) => optional(v)), [true, true, false, true]);
  });

  it('int / number: ranges, blanks and fractions', () => {
    assert.deepEqual(['', '1', '0', '1.5', '7'].map((v) => V.int(1)(v)), [false, true, false, false, true]);
    assert.deepEqual(['', '0', '0.5', '1', '1.01', 'NaN'].map((v) => V.number(0, 1)(v)), [false, true, true, true, false, false]);
  });

  it('when / unless read the other setting from the node when no dialog is open', () => {
    const httpPort = V.unless('transport', ['http'], V.port());
    assert.equal(httpPort.call({ transport: 'http' }, ''), true);
    assert.equal(httpPort.call({ transport: 'tcp' }, ''), false);
    const path_ = V.when('listen', ['node-red'], V.match(/^\/\w+$/));
    assert.equal(path_.call({ listen: 'port' }, 'not a path'), true);
    assert.equal(path_.call({ listen: 'node-red' }, 'not a path'), false);
    const minMove = V.all(V.int(1), V.atMost('alertTimeS'));
    assert.deepEqual([minMove.call({ alertTimeS: 180 }, '10'), minMove.call({ alertTimeS: 5 }, '10'), minMove.call({ alertTimeS: 5 }, '0')], [true, false, false]);
  });

  it('time and timezone', () => {
    assert.deepEqual(['19:00', '7:5', '23:59', '24:00', '12:60', '1200', ''].map((v) => V.time()(v)), [true, true, true, false, false, false, false]);
    assert.deepEqual(['', 'Europe/Ljubljana', 'UTC', 'Mars/Olympus'].map((v) => V.timezone()(v)), [true, true, true, false]);
  });

  it('chat ids: the same rule as lib/alarm/telegram isValidChatId, for each id in a list', () => {
    const ids = ['123', '-1001234567890', '@chan_name', 'chan_name', 'a b', '@ab', '12345678901234567890123', '', 'x', '_under', '@A1_'];
    for (const id of ids) {
      if (id.trim() === '' || /\s/.test(id)) continue; // a list separator, not an id
      assert.equal(V.chatIds()(id), isValidChatId(id), id);
    }
    assert.equal(V.chatIds()('123, @chan_name; 456'), true);
    assert.equal(V.chatIds()('123, @ab'), false);
    assert.equal(V.chatIds()(''), true);
  });

  it('every node editor loads the shared script by its module URL, and the files are there', () => {
    const url = `resources/${pkg.name}/vigil-editor.js`;
    for (const t of types) assert.ok(editorHtml(t).includes(`<script src="${url}"></script>`), t);
    for (const f of ['vigil-editor.js', 'vigil-editor.css']) assert.ok(fs.existsSync(path.join(editorRoot, 'resources', f)), f);
  });

  it('no inline style attributes in editors or help; help summaries are one sentence', () => {
    for (const t of types) {
      assert.ok(!/\sstyle=/.test(editorHtml(t)), `${t}.html`);
      const help = helpHtml(t);
      assert.ok(!/\sstyle=/.test(help), `locales/en-US/${t}.html`);
      const first = /<p>([\s\S]*?)<\/p>/.exec(help);
      assert.ok(first, t);
      const text = first[1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
      assert.equal(text.replace(/\(.*?\)/g, '').split(/[.!?](\s|$)/).filter((s) => s && s.trim()).length, 1, `${t}: "${text}"`);
    }
  });
});
