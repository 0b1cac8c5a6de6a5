/**
 * Headless Chromium through playwright-core: Debian's `/usr/bin/chromium` when it is there
 * (or CHROMIUM_PATH), else the Chromium shipped in the npm package `@sparticuz/chromium`
 * (a development dependency; its `executablePath()` unpacks the binary into the temp dir,
 * offline). `VIGIL_BROWSER=system|bundled` forces one. The first launch prints one
 * `[vigil browser] …` line naming the browser, which `npm test`'s summary repeats.
 */
import { chromium, type Browser } from 'playwright-core';
import fs from 'node:fs';

export type BrowserKind = 'system' | 'bundled';

export interface BrowserChoice {
  kind: BrowserKind;
  executablePath: string;
  args: string[];
  /** `Chromium /usr/bin/chromium (system)`. */
  describe: string;
}

export const BUNDLED_BROWSER_PACKAGE = '@sparticuz/chromium';

/** Flags for the system Chromium: no sandbox as root, no GPU, no background networking (the network is closed). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface SparticuzChromium {
  executablePath(input?: string): Promise<string>;
}

function systemPath(env: NodeJS.ProcessEnv): string {
  return env.CHROMIUM_PATH || '/usr/bin/chromium';
}

async function bundled(): Promise<BrowserChoice> {
  let mod: SparticuzChromium;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a development dependency, loaded only when chosen
    const m = require(BUNDLED_BROWSER_PACKAGE) as { default?: SparticuzChromium } & SparticuzChromium;
    mod = m.default ?? m;
  } catch (err) {
    throw new Error(`no system Chromium and the npm package ${BUNDLED_BROWSER_PACKAGE} does not load (${(err as Error).message.split('\n')[0]}): run \`npm install\`, or apt-get install -y chromium`);
  }
  const executablePath = await mod.executablePath();
  // Not the package's own `args`: they are made for AWS Lambda and include `--single-process`,
  // under which closing a second page takes the whole browser down (a test then hangs or fails
  // with "Target page, context or browser has been closed"), and `--disable-web-security`. The
  // binary runs headless with the same flags as the system Chromium.
  return { kind: 'bundled', executablePath, args: CHROMIUM_ARGS, describe: `Chromium ${executablePath} (bundled, ${BUNDLED_BROWSER_PACKAGE})` };
}

/** Which Chromium to run (see the module comment). */
export async function chooseBrowser(env: NodeJS.ProcessEnv = process.env): Promise<BrowserChoice> {
  const force = (env.VIGIL_BROWSER ?? '').trim();
  if (force && force !== 'system' && force !== 'bundled') throw new Error(`VIGIL_BROWSER must be "system" or "bundled" (got "${force}")`);
  const sys = systemPath(env);
  if (force !== 'bundled' && fs.existsSync(sys)) return { kind: 'system', executablePath: sys, args: CHROMIUM_ARGS, describe: `Chromium ${sys} (system)` };
  if (force === 'system') throw new Error(`VIGIL_BROWSER=system but there is no Chromium at ${sys}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return bundled();
}

let announced = false;

export async function launchBrowser(): Promise<Browser> {
  const choice = await chooseBrowser();
  const browser = await chromium.launch({ executablePath: choice.executablePath, headless: true, args: choice.args });
  if (!announced) {
    announced = true;
    console.log(`[vigil browser] ${choice.describe}, version ${browser.version()}`);
  }
  return browser;
}
