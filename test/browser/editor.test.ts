/**
 * The editor, for real: Node-RED with Vigil installed as a user module, driven by
 * headless Chromium. Checks the palette shows every node type package.json declares,
 * then imports every example through the Import dialog, deploys it alone (with the demo
 * simulators running) and fails on any unknown type, improperly configured node, runtime
 * [error] or editor exception. Node-RED and the simulators listen on port 0 and the examples
 * are moved onto their ports (test/helpers/demo-rig.ts), so a running `npm start` is no
 * obstacle. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { startDemoRig, type DemoRig } from '../helpers/demo-rig';
import { env, type RunningNodeRed } from '../helpers/nodered-env';
import { repoRoot } from '../helpers/nodered';

const results = path.join(repoRoot, 'test-results');

interface EditorType {
  type: string;
  category: string | null;
}

async function editorReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const w = window as unknown as { RED?: { nodes?: { getType?: (t: string) => unknown } } };
    return !!(w.RED && w.RED.nodes && w.RED.nodes.getType && document.querySelector('#red-ui-palette-container-vigil'));
  }, undefined, { timeout: 60000 });
  // Wait for the workspace to finish loading the flows
  await page.waitForSelector('#red-ui-workspace-chart', { timeout: 60000 });
}

function linesSince(nr: RunningNodeRed, mark: number): string[] {
  return nr.lines.slice(mark);
}

async function waitForLine(nr: RunningNodeRed, mark: number, re: RegExp, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (linesSince(nr, mark).some((l) => re.test(l))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${what}" in the Node-RED log:\n${linesSince(nr, mark).join('\n')}`);
}

function problems(lines: string[]): string[] {
  return lines.filter((l) => /\[error\]|unknown type|Waiting for missing types|TypeError|ReferenceError|Unhandled/i.test(l));
}

describe('editor (Node-RED + Chromium)', function () {
  let browser: Browser;
  let page: Page;
  let nr: RunningNodeRed;
  let rig: DemoRig;
  const pageErrors: string[] = [];
  const declared = Object.keys(env.pkg['node-red'].nodes);

  before(async function () {
    fs.mkdirSync(path.join(results, 'examples'), { recursive: true });
    rig = await startDemoRig({ prefix: 'vigil-editor-' });
    nr = rig.nr;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(nr.url);
    await editorReady(page);
  });

  after(async function () {
    await browser?.close();
    await rig?.stop();
  });

  it('loads Vigil without load errors', function () {
    const bad = nr.lines.filter((l) => /vigil/i.test(l) && /error|failed|mismatch/i.test(l));
    assert.deepEqual(bad, [], 'Node-RED reported problems loading Vigil');
  });

  it('shows every declared node type: workers in the "vigil" palette, config nodes registered', async function () {
    const types = await page.evaluate((sets: string[]) => {
      const w = window as unknown as { RED: { nodes: { getType(t: string): { category?: string } | undefined; registry: { getNodeSet?: unknown } } } };
      return sets.map((t) => ({ type: t, category: w.RED.nodes.getType(t)?.category ?? null }));
    }, declared);
    for (const t of types as EditorType[]) {
      assert.ok(t.category, `${t.type} is not registered in the editor`);
      if (t.category === 'config') continue;
      assert.equal(t.category, 'vigil', `${t.type} is in palette category ${t.category}`);
      const n = await page.locator(`#red-ui-palette-container-vigil [data-palette-type="${t.type}"]`).count();
      assert.equal(n, 1, `${t.type} is not in the vigil palette`);
    }
    await page.screenshot({ path: path.join(results, 'palette.png') });
  });

  it('opens every node\'s edit dialog built by the shared editor script (resources/), and Done keeps it valid', async function () {
    const served = await fetch(`${nr.url}resources/${env.pkg.name}/vigil-editor.js`);
    assert.equal(served.status, 200, 'resources/ not served under the scoped module name');
    const report = await page.evaluate(async (types: string[]) => {
      type Def = { category: string; defaults: Record<string, { value: unknown }> };
      type Nd = { id: string; type: string; valid?: boolean; [k: string]: unknown };
      const w = window as unknown as {
        VigilEditor?: unknown;
        RED: {
          nodes: { getType(t: string): Def; node(id: string): Nd; dirty(d: boolean): void };
          view: { importNodes(n: unknown[], o?: unknown): void };
          editor: { edit(n: Nd): void; editConfig(a: string, t: string, id: string): void; validateNode(n: Nd): void };
        };
      };
      const RED = w.RED;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      // Poll for what the editor builds asynchronously (a loaded machine may take seconds), up to 30 s.
      const until = async (ok: () => boolean) => {
        for (let i = 0; i < 300 && !ok(); i++) await sleep(100);
      };
      const trays = () => document.querySelectorAll('.red-ui-tray').length;
      const flow: Array<Record<string, unknown>> = [];
      for (const t of types) {
        const def = RED.nodes.getType(t);
        const n: Record<string, unknown> = { id: `vigil-edit-${t}`, type: t };
        for (const [k, d] of Object.entries(def.defaults)) n[k] = JSON.parse(JSON.stringify(d.value ?? ''));
        if (def.category !== 'config') Object.assign(n, { x: 100, y: 40 + flow.length * 30, wires: [] });
        flow.push(n);
      }
      // Settings the defaults leave empty on purpose (required, no default): link and fill them.
      for (const n of flow) {
        for (const [k, id] of [['system', 'vigil-edit-vigil-system'], ['sensor', 'vigil-edit-halo-sensor'], ['service', 'vigil-edit-isotel-service']]) if (k in n) n[k] = id;
        if (n.type === 'halo-sensor') n.host = '127.0.0.1';
        if (n.type === 'isotel-service') n.port = '6020';
      }
      RED.view.importNodes(flow, { generateIds: false });
      // Rows that follow a select (VigilEditor.watch): shown with the default, hidden after picking `value`.
      const follows: Record<string, [string, string, string]> = {
        'halo-in': ['transport', 'http', '.halo-in-net'],
        'vigil-api': ['listen', 'node-red', '.vigil-api-port-row'],
        'vigil-camera': ['source', 'input', '.vigil-camera-url'],
        'vigil-mqtt': ['role', 'central', '.vigil-mqtt-site'],
        'vigil-recorder': ['format', 'avi', '.vigil-recorder-ffmpeg'],
      };
      const out: Array<{ type: string; left: number; rows: number; css: boolean; valid: boolean | undefined; badSelects: string[]; follow: string }> = [];
      for (const t of types) {
        const n = RED.nodes.node(`vigil-edit-${t}`);
        const before = trays();
        if (RED.nodes.getType(t).category === 'config') RED.editor.editConfig('', t, n.id);
        else RED.editor.edit(n);
        const formOf = () => document.querySelector('.red-ui-tray:last-child')?.querySelector('#dialog-form, #node-config-dialog-edit-form');
        // Open = built and done animating: Node-RED raises the editor stack's z-index to 13 as
        // the last step of opening a tray (and lowers it when one closes). Closing a tray that is
        // still opening makes the editor throw from its pending resize.
        const stackRaised = () => (document.getElementById('red-ui-editor-stack') as HTMLElement | null)?.style.zIndex === '13';
        await until(() => trays() > before && stackRaised() && !!formOf()?.querySelector('.form-row') && !formOf()?.querySelector('[data-vigil-row]'));
        const tray = document.querySelector('.red-ui-tray:last-child');
        const form = tray?.querySelector('#dialog-form, #node-config-dialog-edit-form');
        const left = form ? form.querySelectorAll('[data-vigil-row]').length : -1;
        const rows = form ? form.querySelectorAll('.form-row').length : 0;
        const css = !!document.getElementById('vigil-editor-css') && !!w.VigilEditor;
        // Every select has options, each labelled from the catalog (not left empty or as its key).
        const badSelects = form
          ? Array.from(form.querySelectorAll('select'))
              .filter((sel) => sel.options.length === 0 || Array.from(sel.options).some((o) => !o.text.trim() || /^[\w-]+(\.[\w-]+)+$/.test(o.text.trim())))
              .map((sel) => sel.id)
          : [];
        let follow = '';
        if (follows[t] && form) {
          const [key, pick, rowSel] = follows[t];
          const sel = form.querySelector(`#node-input-${key}`) as HTMLSelectElement;
          const row = form.querySelector(rowSel) as HTMLElement;
          const was = sel.value;
          const shownBefore = row.offsetParent !== null;
          sel.value = pick;
          sel.dispatchEvent(new Event('change', { bubbles: true }));
          const hiddenAfter = row.offsetParent === null;
          sel.value = was;
          sel.dispatchEvent(new Event('change', { bubbles: true }));
          if (!shownBefore || !hiddenAfter || row.offsetParent === null) follow = `${rowSel} does not follow ${key}`;
        }
        (tray?.querySelector('#node-dialog-ok, #node-config-dialog-ok') as HTMLElement | null)?.click();
        await until(() => trays() === before);
        RED.editor.validateNode(n);
        out.push({ type: t, left, rows, css, valid: RED.nodes.node(n.id).valid, badSelects, follow });
      }
      RED.nodes.dirty(false); // nothing to deploy: the next test reloads the editor
      return out;
    }, declared);
    for (const r of report) {
      assert.equal(r.left, 0, `${r.type}: data-vigil-row placeholders left in the dialog (or no dialog)`);
      assert.ok(r.rows > 0, `${r.type}: no form rows`);
      assert.ok(r.css, `${r.type}: the shared editor script or stylesheet is missing`);
      assert.equal(r.valid, true, `${r.type}: not valid after Done with its defaults`);
      assert.deepEqual(r.badSelects, [], `${r.type}: selects without options or with unlabelled options`);
      assert.equal(r.follow, '', r.type);
    }
    assert.deepEqual(pageErrors, [], 'editor exceptions');
  });

  for (const file of env.exampleFiles()) {
    it(`imports and deploys example "${file}"`, async function () {
      const flow = rig.move(fs.readFileSync(path.join(repoRoot, 'examples', file), 'utf8'));
      // Start from an empty runtime, then a fresh editor.
      const r = await fetch(`${nr.url}flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: '[]' });
      assert.ok(r.ok, `clearing flows failed: ${r.status}`);
      await page.reload();
      await editorReady(page);
      const errorsBefore = pageErrors.length;
      const mark = nr.lines.length;

      await page.locator('#red-ui-workspace-chart').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Control+i');
      const text = page.locator('#red-ui-clipboard-dialog-import-text');
      await text.waitFor({ state: 'visible' });
      await text.fill(flow);
      // The dialog validates on keyup/paste only (fill() sends neither): a harmless key press
      // triggers it, instead of relying on the validation timer of the dialog's opening.
      await text.press('End');
      await page.waitForFunction(() => !document.querySelector('#red-ui-clipboard-dialog-ok')?.classList.contains('ui-state-disabled'), undefined, { timeout: 10000 }).catch(() => {
        throw new Error(`the Import dialog refused ${file}: ${flow.slice(0, 80)}…`);
      });
      await page.locator('#red-ui-clipboard-dialog-import-opt-new').click().catch(() => undefined);
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      // Imported nodes are attached to the mouse; drop them.
      await page.mouse.click(400, 300);
      await page.locator('#red-ui-header-button-deploy').click();
      // Either the deploy goes through, or the editor asks to confirm it (a warning: a failure
      // below). Whichever comes first, however long a loaded machine takes.
      const confirm = page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
      const started = waitForLine(nr, mark, /Started flows|Waiting for missing types/, 'Started flows');
      const asked = confirm.waitFor({ state: 'visible', timeout: 60000 }).then(() => true, () => false);
      started.catch(() => undefined);
      let warning = '';
      if (await Promise.race([started.then(() => false, () => false), asked])) {
        warning = (await page.locator('.red-ui-notification').last().innerText()).replace(/\s+/g, ' ');
        await confirm.click();
      }
      await started;
      // Let the example run a little so runtime errors show up.
      await new Promise((res) => setTimeout(res, 2500));
      const shot = path.join(results, 'examples', `${file.replace(/[\\/]/g, '__').replace(/\.json$/, '')}.png`);
      await page.screenshot({ path: shot });
      assert.equal(warning, '', `the editor warned before deploying: ${warning}`);
      assert.deepEqual(problems(linesSince(nr, mark)), [], 'runtime errors after deploy');
      assert.deepEqual(pageErrors.slice(errorsBefore), [], 'editor exceptions');
    });
  }

  it('deploys the whole demo and renders it (README screenshot)', async function () {
    const mark = nr.lines.length;
    const r = await fetch(`${nr.url}flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: rig.move(JSON.stringify(env.demoFlows())) });
    assert.ok(r.ok);
    await waitForLine(nr, mark, /Started flows/, 'Started flows');
    await page.reload();
    await editorReady(page);
    await new Promise((res) => setTimeout(res, 3000));
    const shot = path.join(results, 'demo.png');
    await page.screenshot({ path: shot });
    if (process.env.VIGIL_UPDATE_DOCS) fs.copyFileSync(shot, path.join(repoRoot, 'docs', 'editor.png'));
    assert.deepEqual(problems(linesSince(nr, mark)), [], 'runtime errors in the demo');
  });
});
