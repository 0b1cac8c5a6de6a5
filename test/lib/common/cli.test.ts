import assert from 'node:assert/strict';
import { CliError, intValue, parseCliArgs, portValue, secondsValue } from '../../../lib/common/cli';

const OPTIONS = { host: { type: 'string' }, port: { type: 'string' }, to: { type: 'string', multiple: true }, quiet: { type: 'boolean' } } as const;

describe('common: simulator command lines (parseArgs)', () => {
  it('reads string, repeatable and boolean options, also --opt=value', () => {
    assert.deepEqual(parseCliArgs(['--host', '0.0.0.0', '--to', 'a', '--to=b', '--quiet', '--port=7'], OPTIONS), { host: '0.0.0.0', to: ['a', 'b'], quiet: true, port: '7' });
    assert.deepEqual(parseCliArgs([], OPTIONS), {});
  });

  it('a string option takes the next argument even when it starts with a dash', () => {
    assert.deepEqual(parseCliArgs(['--host', '-x'], OPTIONS), { host: '-x' });
  });

  it('-h / --help wins over what follows, not over a bad option before it', () => {
    assert.equal(parseCliArgs(['-h', '--nope'], OPTIONS), 'help');
    assert.equal(parseCliArgs(['--quiet', '--help'], OPTIONS), 'help');
    assert.throws(() => parseCliArgs(['--nope', '--help'], OPTIONS), /Unknown option --nope/);
  });

  it('bad command lines are CliErrors with a one-line reason', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--nope'], /^Unknown option --nope$/],
      [['-x'], /^Unknown option -x$/],
      [['--port'], /^--port needs a value$/],
      [['--quiet=yes'], /^--quiet takes no value$/],
      [['stray'], /^unexpected argument "stray"$/],
      [['--', 'x'], /^unexpected argument --$/],
    ];
    for (const [argv, re] of cases) {
      assert.throws(
        () => parseCliArgs(argv, OPTIONS),
        (e: unknown) => e instanceof CliError && re.test(e.message),
        argv.join(' '),
      );
    }
  });

  it('number, port and seconds values: undefined when absent, a CliError when bad', () => {
    assert.equal(portValue(undefined, '--port'), undefined);
    assert.equal(portValue('0', '--port'), 0);
    assert.equal(portValue('65535', '--port'), 65535);
    for (const bad of ['', 'abc', '-1', '65536', '1.5']) assert.throws(() => portValue(bad, '--port'), /^CliError: --port must be a port number 0–65535/);
    assert.equal(intValue('5', '--n', 1, 9), 5);
    assert.throws(() => intValue('0', '--n', 1, 9), /--n must be a whole number from 1 to 9, got "0"/);
    assert.equal(secondsValue('2.5', '--s'), 2.5);
    assert.equal(secondsValue(undefined, '--s'), undefined);
    assert.throws(() => secondsValue('-1', '--s'), /--s must be a number of seconds/);
  });
});
