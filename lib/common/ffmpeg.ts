/**
 * Where ffmpeg (and ffprobe) come from. One lookup for every user (the camera's ffmpeg source,
 * the recorder, the tests), in this order:
 *
 *   1. the path the node was configured with (its `ffmpegPath` setting), when given;
 *   2. `ffmpeg` on PATH (the system's, e.g. Debian's `apt-get install ffmpeg`);
 *   3. the static build shipped in an npm package: `@ffmpeg-installer/ffmpeg` (an optional
 *      dependency, so a palette install on a machine without ffmpeg still plays RTSP) and
 *      `@ffprobe-installer/ffprobe` (a development dependency, for the tests).
 *
 * `VIGIL_FFMPEG=system|bundled` forces step 2 or step 3 (the tests run once with each); a
 * configured path still wins, being the most specific choice. The answer names where the
 * binary came from, so a node's status and log can say which ffmpeg it runs; when nothing is
 * found the error names everything that was tried.
 */
import fs from 'node:fs';
import path from 'node:path';

export type FfTool = 'ffmpeg' | 'ffprobe';

/** Where a binary was found: the node's setting, the system PATH, or an npm package. */
export type FfSource = 'setting' | 'system' | 'bundled';

export interface FoundBinary {
  tool: FfTool;
  /** Absolute path of the executable. */
  path: string;
  source: FfSource;
  /** One line for a status or log: `ffmpeg /usr/bin/ffmpeg (system)`. */
  describe: string;
}

export interface LookupOptions {
  /** The configured path (`ffmpegPath`); empty/undefined = look it up. A bare name is searched on PATH. */
  configured?: string;
  /** Environment to read PATH and VIGIL_FFMPEG from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Loads the npm package (default `require`); tests replace it to simulate its absence. */
  load?: (pkg: string) => unknown;
}

/** The npm package that ships each tool. */
export const BUNDLED_PACKAGE: Readonly<Record<FfTool, string>> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/** Thrown when no usable binary was found; `tried` lists every place looked at and why it failed. */
export class FfmpegNotFoundError extends Error {
  readonly tool: FfTool;
  readonly tried: string[];
  constructor(tool: FfTool, tried: string[], hint: string) {
    super(`${tool} not found: ${tried.join('; ')}. ${hint}`);
    this.name = 'FfmpegNotFoundError';
    this.tool = tool;
    this.tried = tried;
  }
}

function executable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on the PATH of `env`, or null. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const exts = process.platform === 'win32' ? (env.PATHEXT || '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (executable(file)) return file;
    }
  }
  return null;
}

function found(tool: FfTool, file: string, source: FfSource): FoundBinary {
  const where = source === 'bundled' ? `bundled, ${BUNDLED_PACKAGE[tool]}` : source;
  return { tool, path: file, source, describe: `${tool} ${file} (${where})` };
}

/** The binary from the npm package, or the reason it is not usable. */
function bundled(tool: FfTool, load: (pkg: string) => unknown): { file: string } | { why: string } {
  const pkg = BUNDLED_PACKAGE[tool];
  let mod: unknown;
  try {
    mod = load(pkg);
  } catch (err) {
    // The package throws when it has no build for this platform; MODULE_NOT_FOUND when not installed.
    const msg = (err as Error).message.split('\n')[0];
    return { why: (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && msg.includes(pkg) ? `npm package ${pkg} not installed` : `npm package ${pkg}: ${msg}` };
  }
  const file = (mod as { path?: unknown } | null)?.path;
  if (typeof file !== 'string' || !file) return { why: `npm package ${pkg} names no binary` };
  if (!executable(file)) return { why: `npm package ${pkg}: ${file} is not an executable file` };
  return { file };
}

/**
 * Find `tool` (see the module comment for the order). Throws FfmpegNotFoundError naming what
 * was tried, or an Error for a VIGIL_FFMPEG value other than system/bundled.
 */
export function findFf(tool: FfTool, o: LookupOptions = {}): FoundBinary {
  const env = o.env ?? process.env;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional package, loaded only when needed
  const load = o.load ?? ((pkg: string): unknown => require(pkg));
  const hint = `Install ${tool} (e.g. \`apt-get install ffmpeg\`), install the npm package ${BUNDLED_PACKAGE[tool]}, or set the node's ffmpeg path`;
  const configured = (o.configured ?? '').trim();
  if (configured) {
    const file = configured.includes('/') || configured.includes('\\') ? path.resolve(configured) : onPath(configured, env);
    if (file && executable(file)) return found(tool, file, 'setting');
    throw new FfmpegNotFoundError(tool, [`the configured path "${configured}" is ${file ? 'not an executable file' : 'not on PATH'}`], `Correct the node's ffmpeg path, or clear it to use ffmpeg on PATH (e.g. \`apt-get install ffmpeg\`) or the npm package ${BUNDLED_PACKAGE[tool]}`);
  }
  const force = (env.VIGIL_FFMPEG ?? '').trim();
  if (force && force !== 'system' && force !== 'bundled') throw new Error(`VIGIL_FFMPEG must be "system" or "bundled" (got "${force}")`);
  const tried: string[] = [];
  if (force !== 'bundled') {
    const file = onPath(tool, env);
    if (file) return found(tool, file, 'system');
    tried.push(`no ${tool} on PATH`);
  }
  if (force !== 'system') {
    const b = bundled(tool, load);
    if ('file' in b) return found(tool, b.file, 'bundled');
    tried.push(b.why);
  }
  if (force) tried.push(`VIGIL_FFMPEG=${force} allowed only that one`);
  throw new FfmpegNotFoundError(tool, tried, hint);
}

/** ffmpeg: the node's setting, else the system's, else the npm-shipped one. */
export function findFfmpeg(o: LookupOptions = {}): FoundBinary {
  return findFf('ffmpeg', o);
}

/** ffprobe, looked up the same way (the npm-shipped one is a development dependency: tests). */
export function findFfprobe(o: LookupOptions = {}): FoundBinary {
  return findFf('ffprobe', o);
}
