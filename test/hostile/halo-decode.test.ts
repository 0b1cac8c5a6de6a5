/**
 * Hostile suite, HALO decoders and templates (issue #11 items 1 and 6, issue #13): random and
 * adversarial inputs — deep nesting in every key, huge lengths, invalid UTF-8, prototype keys,
 * adjacent tokens — never throw, never hand on anything deep, never stall the event loop.
 * Seeds are fixed so a failure reproduces; the loop's largest delay is printed for each attack.
 */
import assert from 'node:assert/strict';
import { HaloDecoder, RECOMMENDED_TEMPLATES, type HaloDecoded } from '../../lib/halo/decode';
import { PARTNER_TEMPLATES } from '../../lib/halo/sim';
import { compileTemplate, expandTemplate, TemplateError } from '../../lib/halo/template';
import { KNOWN_TOKENS } from '../../lib/halo/tokens';
import { depthExceeds } from '../../lib/common/json';
import { assertLoopDelay, deepArray, deepObject, prng, randomBytes, turn, underAttack } from '../helpers/hostile';

const decoders = (): HaloDecoder[] => [
  new HaloDecoder({ setTemplate: RECOMMENDED_TEMPLATES.set, resetTemplate: RECOMMENDED_TEMPLATES.reset, heartbeatTemplate: RECOMMENDED_TEMPLATES.heartbeat }),
  new HaloDecoder({ format: 'json' }),
  new HaloDecoder({ format: 'template', setTemplate: 'halo.event.%EID% %NAME% v=%VAL%\\n', resetTemplate: 'halo.reset.%EID%\\n' }),
  new HaloDecoder({ http: true, setTemplate: `POST:http://h/halo[JSONBODY]${PARTNER_TEMPLATES.nested.set}` }),
];

/** What leaves the decoder is safe to clone, stringify and String(): shallow and finite. */
function assertSafe(d: HaloDecoded, input: string): void {
  assert.ok(['set', 'reset', 'heartbeat', 'unknown'].includes(d.kind), input.slice(0, 80));
  assert.equal(depthExceeds(d, 40), false, `deep output for ${input.slice(0, 80)}`);
  JSON.stringify(d);
  structuredClone(d);
}

describe('hostile: HALO decoders', function () {
  it('random bytes (invalid UTF-8 included), 3 000 messages up to 4 KB: never a throw, always a kind', async () => {
    const rnd = prng(11);
    const decs = decoders();
    const m = await underAttack('halo decode: 3 000 random byte messages (loop turns every 10)', async () => {
      for (let i = 0; i < 3000; i++) {
        if (i % 10 === 0) await turn();
        const text = randomBytes(rnd, Math.floor(rnd() * 4096)).toString('utf8');
        for (const d of decs) assertSafe(d.decode(text, '192.0.2.1'), text);
      }
    });
    assertLoopDelay(m);
  });

  it('JSON-ish noise: random brackets, quotes, keys and state words, 5 000 messages', async () => {
    const rnd = prng(12);
    const atoms = ['{', '}', '[', ']', '"', ':', ',', '"type"', '"alarm"', '"active"', '"event"', '"device"', '"status"', '"Set"', '"Reset"', 'true', 'null', '1e999', '"\\u0000"', '"__proto__"', '"constructor"', '{"event":{', '{"device":{'];
    const decs = decoders();
    const m = await underAttack('halo decode: 5 000 JSON-ish noise messages (loop turns every 10)', async () => {
      for (let i = 0; i < 5000; i++) {
        if (i % 10 === 0) await turn();
        let text = '';
        const n = Math.floor(rnd() * 200);
        for (let k = 0; k < n; k++) text += atoms[Math.floor(rnd() * atoms.length)];
        for (const d of decs) assertSafe(d.decode(text, 'x'), text);
      }
    });
    assertLoopDelay(m);
  });

  it('deep nesting in every state and identity key (the one-packet crash of #11 item 1), up to 50 000 levels', async () => {
    const decs = decoders();
    const keys = ['type', 'kind', 'alarm', 'state', 'status', 'set', 'active', 'event', 'device', 'name', 'mac', 'ip', 'value', 'threshold', 'sim', 'events', 'sensors', 'alive'];
    const m = await underAttack('halo decode: deep arrays/objects in 18 keys × 5 depths (loop turns per key)', async () => {
      for (const depth of [33, 500, 2000, 10_000, 50_000]) {
        for (const key of keys) {
          await turn();
          for (const inner of [deepArray(depth), deepObject(depth)]) {
            const text = `{"type":"heartbeat","device":"H","event":"Vape","${key}":${inner}}`;
            for (const d of decs) {
              const out = d.decode(text, 'x');
              assertSafe(out, text);
              if (d.format === 'json') assert.equal(out.kind, 'unknown', `${key} at depth ${depth}`);
            }
          }
        }
      }
    });
    assertLoopDelay(m);
  });

  it('unmatched deep JSON is never handed on as payload.json (Node-RED clone overflow of #11 item 1)', () => {
    const d = new HaloDecoder({}).decode(`{"foo":${deepArray(3000)}}`, 'x');
    assert.equal(d.kind, 'unknown');
    assert.equal((d as { json?: unknown }).json, undefined);
    structuredClone(d);
  });

  it('huge lengths: a 4 MB string value, 200 000 keys, a 4 MB line of separators', async () => {
    const decs = decoders();
    const bigKeys = '{' + Array.from({ length: 200_000 }, (_, i) => `"k${i}":1`).join(',') + '}';
    const inputs = [`{"device":"${'A'.repeat(4 * 1024 * 1024)}","event":"Vape","alarm":"yes"}`, bigKeys, '","'.repeat(1_400_000), '%'.repeat(4 * 1024 * 1024)];
    const m = await underAttack('halo decode: 4 MB inputs (loop turns per input)', async () => {
      for (const text of inputs) {
        for (const d of decs) {
          await turn();
          assertSafe(d.decode(text, 'x'), text);
        }
      }
    });
    assertLoopDelay(m);
  });

  it('prototype keys pollute nothing', () => {
    for (const d of decoders()) {
      d.decode('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"device":"H","event":"E","alarm":"yes"}', 'x');
    }
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });
});

describe('hostile: HALO templates (#11 item 6)', function () {
  const tokens = [...KNOWN_TOKENS];
  /** A value of each token's shape (the fixed-shape tokens' own forms; free text a plain word). */
  const SHAPED: Record<string, string> = { MAC: '00A0C9123456', IP: '10.0.0.7', VAL: '42.5', THR: '40', RSSI: '-61', SIGSTRENG: '-61', DATE: '2026-12-06', TIME: '03:04:05', SIM: 'SIMULATED' };
  const SAMPLE_VALUES: Record<string, string> = Object.fromEntries(tokens.map((k, i) => [k, SHAPED[k] ?? `w${i}x`]));
  const shaped = new Set(['MAC', 'IP', 'VAL', 'THR', 'RSSI', 'SIGSTRENG', 'DATE', 'TIME', 'SIM']);

  it('adjacent tokens: refused at compile unless the first has a fixed shape — checked for every pair', () => {
    for (const a of tokens) {
      for (const b of tokens) {
        const t = `x%${a}%%${b}% y`;
        if (shaped.has(a)) assert.doesNotThrow(() => compileTemplate(t), t);
        else assert.throws(() => compileTemplate(t), (e: Error) => e instanceof TemplateError && e.message.includes(`%${a}% is followed directly by %${b}%`), t);
      }
    }
  });

  it('the reported ReDoS templates are refused, their separated forms match a hostile line in linear time', async () => {
    for (const t of ['%NAME%%EID%%SOURCE% %VAL%', '%NAME%%EID% %VAL%']) assert.throws(() => compileTemplate(t), TemplateError);
    const sizes = [6 * 1024, 60 * 1024, 600 * 1024];
    for (const t of ['%NAME%/%EID%/%SOURCE% %VAL%', '%NAME%:%EID% %VAL%', '%MAC%%NAME% %VAL%', RECOMMENDED_TEMPLATES.set, PARTNER_TEMPLATES.flat.set]) {
      const c = compileTemplate(t);
      const m = await underAttack(`halo template ${t.slice(0, 30)}…: hostile lines of 6 KB, 60 KB, 600 KB (loop turns per line)`, async () => {
        for (const n of sizes) {
          for (const unit of [' ', '/', ':', 'a', '"', '","', ' /:']) {
            await turn();
            const line = unit.repeat(Math.ceil(n / unit.length)).slice(0, n) + '\u0000';
            c.match(line);
          }
        }
      });
      assertLoopDelay(m);
    }
  });

  it('random templates (tokens, separators, escapes) compile or refuse; expansions round-trip; random text never stalls', async () => {
    const rnd = prng(13);
    const seps = ['', ' ', '/', ',', '"', ':', '\\n', ';', '%', '{"k":"', '"}'];
    let compiled = 0;
    let refused = 0;
    let checked = 0;
    const m = await underAttack('halo template: 2 000 random templates × random text (loop turns per template)', async () => {
      for (let i = 0; i < 2000; i++) {
        await turn();
        let t = '';
        const n = 1 + Math.floor(rnd() * 6);
        for (let k = 0; k < n; k++) t += seps[Math.floor(rnd() * seps.length)] + `%${tokens[Math.floor(rnd() * tokens.length)]}%`;
        t += seps[Math.floor(rnd() * seps.length)];
        let c;
        try {
          c = compileTemplate(t);
          compiled++;
        } catch (e) {
          assert.ok(e instanceof TemplateError, String(e));
          refused++;
          continue;
        }
        c.match(randomBytes(rnd, 2000).toString('latin1'));
        c.match(' '.repeat(20_000));
        // Expanded with a value of each token's shape, the template matches its own expansion.
        // Not where tokens touch: they are scanned left to right without backtracking (linear
        // time), so a greedy DATE can eat digits an IP after it needed — there only "no throw".
        const text = expandTemplate(t, SAMPLE_VALUES);
        const got = c.match(text);
        if (/%[A-Z0-9_]+%%[A-Z0-9_]+%/.test(t)) continue;
        assert.ok(got !== undefined, `${t} does not match its own expansion ${JSON.stringify(text)}`);
        // And gives the values back where the text has one reading: no value holds a separator
        // of the template (a TIME's ':' before a literal ':' has two).
        const literal = c.parts.map((x) => (x.kind === 'text' ? x.text : '')).join('');
        if (!c.tokens.every((name) => ![...SAMPLE_VALUES[name]].some((ch) => literal.includes(ch)))) continue;
        checked++;
        for (const name of c.tokens) assert.equal(got[name], SAMPLE_VALUES[name], `${t}: ${name} from ${JSON.stringify(text)}`);
      }
    });
    process.stdout.write(`[hostile] random templates: ${compiled} compiled (${checked} with every value checked), ${refused} refused (adjacent free-text tokens)\n`);
    assert.ok(compiled > 0 && refused > 0 && checked > 0);
    assertLoopDelay(m);
  });
});
