/**
 * The simulators' command lines (bin/*-sim.ts) on node:util `parseArgs`, with the
 * conventions they share: `-h`/`--help` prints the help text and exits 0; a bad option or
 * value prints `<name>: <what is wrong>` and `(see <name> --help)` on stderr and exits 2.
 *
 * Options are read in order like a hand-written loop: `--help` wins over what follows it,
 * the first bad option is the one reported, a string option takes the next argument as
 * its value even when it starts with a dash (`--password -x`), `--opt=value` also works.
 */
import { parseArgs } from 'node:util';
import type { ServerAuthMode } from './digest';

/** The options of a command line, as node:util parseArgs takes them. */
export interface CliOptions {
  [longOption: string]: { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
}

/** A usage error: reported on one line, exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

type OptionValue<C> = C extends { type: 'boolean' } ? boolean : string;

/** The parsed values: absent options are undefined, repeatable ones are arrays. */
export type CliValues<O extends CliOptions> = {
  -readonly [K in keyof O]?: O[K] extends { multiple: true } ? Array<OptionValue<O[K]>> : OptionValue<O[K]>;
};

const HELP_OPTION: CliOptions = { help: { type: 'boolean', short: 'h' } };

/**
 * Parse `argv` against `options` (`-h`/`--help` is added). Returns 'help' when help is asked
 * for before any bad option; throws CliError for an unknown option, a missing value, a value
 * given to a flag or a stray argument.
 */
export function parseCliArgs<O extends CliOptions>(argv: readonly string[], options: O): CliValues<O> | 'help' {
  const all: CliOptions = { ...options, ...HELP_OPTION };
  const { tokens } = parseArgs({ args: [...argv], options: all, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | Array<string | boolean>> = {};
  for (const t of tokens) {
    if (t.kind === 'option-terminator') throw new CliError('unexpected argument --');
    if (t.kind === 'positional') throw new CliError(`unexpected argument ${JSON.stringify(t.value)}`);
    const spec = Object.hasOwn(all, t.name) ? all[t.name] : undefined;
    if (!spec) throw new CliError(`Unknown option ${t.rawName}`);
    if (t.name === 'help') return 'help';
    let v: string | boolean;
    if (spec.type === 'string') {
      if (t.value === undefined) throw new CliError(`${t.rawName} needs a value`);
      v = t.value;
    } else {
      if (t.value !== undefined) throw new CliError(`${t.rawName} takes no value`);
      v = true;
    }
    if (spec.multiple) {
      const list = values[t.name];
      values[t.name] = Array.isArray(list) ? [...list, v] : [v];
    } else values[t.name] = v;
  }
  return values as CliValues<O>;
}

/** A whole number from `min` to `max`, or undefined when the option is absent. */
export function intValue(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** A TCP/UDP port 0–65535 (0 = any free port), or undefined when the option is absent. */
export function portValue(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${flag} must be a port number 0–65535, got ${JSON.stringify(v)}`);
  return n;
}

/** A number of seconds ≥ 0 (fractions allowed), or undefined when the option is absent. */
export function secondsValue(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`${flag} must be a number of seconds ≥ 0, got ${JSON.stringify(v)}`);
  return n;
}

/** `--auth <mode>`, `--username`, `--password`: how a simulator's HTTP server makes clients authenticate. */
export const SERVER_AUTH_OPTIONS = {
  auth: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
} as const;

const AUTH_MODES: readonly ServerAuthMode[] = ['none', 'basic', 'digest', 'any'];

/** The `--auth` mode: `none` when absent. */
export function authModeValue(v: string | undefined): ServerAuthMode {
  const mode = v ?? 'none';
  if (!(AUTH_MODES as readonly string[]).includes(mode)) throw new CliError('--auth must be none, basic, digest or any');
  return mode as ServerAuthMode;
}

/** Print `<name>: <message>` and the help hint on stderr, exit 2. */
export function cliFail(name: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${name}: ${message}\n(see ${name} --help)\n`);
  process.exit(2);
}

/**
 * Run a simulator's command line: parse `argv` (default process.argv), print `help` for
 * -h/--help, else call `main` with the values. A CliError or any other failure of `main`
 * (thrown or rejected) goes through cliFail (exit 2).
 */
export function runCli<O extends CliOptions>(
  name: string,
  help: string,
  options: O,
  main: (values: CliValues<O>) => void | Promise<void>,
  argv: readonly string[] = process.argv.slice(2),
): void {
  let values: CliValues<O>;
  try {
    const r = parseCliArgs(argv, options);
    if (r === 'help') {
      process.stdout.write(help);
      return;
    }
    values = r;
  } catch (err) {
    cliFail(name, err);
  }
  Promise.resolve()
    .then(() => main(values))
    .catch((err: unknown) => cliFail(name, err));
}

/**
 * Stop `stop` on SIGINT/SIGTERM and exit (0, or 1 if stopping failed). Returns the same
 * shutdown, safe to call more than once.
 */
export function stopOnSignals(stop: () => Promise<unknown>): () => void {
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  return shutdown;
}

/**
 * Start a simulator server and stop it on SIGINT/SIGTERM. A failed start is a CliError
 * `cannot listen on <host>:<port>: <reason>`. Resolves with what `start` resolves with.
 */
export async function serveUntilSignal<T>(sim: { start(): Promise<T>; stop(): Promise<unknown> }, host: string, port: number): Promise<T> {
  stopOnSignals(() => sim.stop());
  try {
    return await sim.start();
  } catch (err) {
    throw new CliError(`cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Split a user-typed argument string (e.g. extra ffmpeg arguments) on whitespace, honouring simple quotes. */
export function splitArgs(s: string | undefined): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s ?? '')) !== null) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}
