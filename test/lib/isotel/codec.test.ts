import assert from 'node:assert/strict';
import { decode, encode, IsotelDecoder, IsotelMessage, parseBody, safeText, serializeBody } from '../../../lib/isotel/codec';
import { prng, splitRandom } from '../../helpers/hostile';

/** Every example line of the protocol description (docs/isotel.md §2, grammar lines included), with what it must decode to. */
const SEED: Array<[string, IsotelMessage]> = [
  ['IDENT {"name":"IOT service 1", "vendor":"Isotel", "version":"1.0"}', { kind: 'ident', body: { name: 'IOT service 1', vendor: 'Isotel', version: '1.0' } }],
  ['REPLY {"value":123}', { kind: 'reply', body: { value: 123 } }],
  ['HREPLY {"status":200, "mime":"application/json", "body":{"value":123}}', { kind: 'hreply', reply: { status: 200, mime: 'application/json', body: { value: 123 } } }],
  ['CONNECT <parameter_uri>', { kind: 'connect', uri: '/<parameter_uri>', body: undefined }],
  ['CONNECT /me/device0/ec/E', { kind: 'connect', uri: '/me/device0/ec/E', body: undefined }],
  ['CONNECT /me/device0/ec/E {"status":"OK"}', { kind: 'connect', uri: '/me/device0/ec/E', body: { status: 'OK' } }],
  ['CONNECT /me/device0/ec/E {"status":"Error"}', { kind: 'connect', uri: '/me/device0/ec/E', body: { status: 'Error' } }],
  ['SIGNAL  <parameter_uri>  <data>', { kind: 'signal', uri: '/<parameter_uri>', data: '<data>' }],
  [
    'SIGNAL /me/device0/ec/E {"status":"OK","E":{"value":"12.75"},"time":"1444751862.112"}',
    { kind: 'signal', uri: '/me/device0/ec/E', data: { status: 'OK', E: { value: '12.75' }, time: '1444751862.112' } },
  ],
  ['DISCONNECT <parameter_uri>', { kind: 'disconnect', uri: '/<parameter_uri>', body: undefined }],
  ['DISCONNECT /me/device0/ec/E', { kind: 'disconnect', uri: '/me/device0/ec/E', body: undefined }],
  ['DISCONNECT', { kind: 'disconnect', body: undefined }],
  ['CONNECT me/device0/ec/E\r\n{"debounce_time": 1000, "send_data": false}', { kind: 'connect', uri: '/me/device0/ec/E', body: { debounce_time: 1000, send_data: false } }],
  [
    'NOTIFY {"module": "service component X", "severity": "API", "message": "content..."}',
    { kind: 'notify', body: { module: 'service component X', severity: 'API', message: 'content...' } },
  ],
  ['NOTIFY {"severity": "SYSLOG", "message": "content...", "receiver": "app1"}', { kind: 'notify', body: { severity: 'SYSLOG', message: 'content...', receiver: 'app1' } }],
  ['STOP', { kind: 'stop', body: undefined }],
  ['{"action":"ident"}', { kind: 'request', body: { action: 'ident' } }],
  ['{"action":"status"}', { kind: 'request', body: { action: 'status' } }],
];

function collect(max?: number): { dec: IsotelDecoder; out: IsotelMessage[]; oversize: number[] } {
  const out: IsotelMessage[] = [];
  const oversize: number[] = [];
  const dec = new IsotelDecoder({ onMessage: (m) => out.push(m), onOversize: (n) => oversize.push(n), maxMessageBytes: max });
  return { dec, out, oversize };
}

describe('isotel codec', () => {
  describe('decode: every example of the seed', () => {
    for (const [line, expected] of SEED) {
      it(JSON.stringify(line), () => {
        assert.deepEqual(decode(Buffer.from(line)), expected);
      });
    }
  });

  it('frames the seed lines with \\n\\n, \\r\\n\\r\\n, merged and split byte by byte', () => {
    for (const term of ['\n\n', '\r\n\r\n']) {
      const stream = Buffer.from(SEED.map(([l]) => l + term).join(''));
      const whole = collect();
      whole.dec.push(stream);
      assert.deepEqual(whole.out, SEED.map(([, m]) => m), `merged, ${JSON.stringify(term)}`);
      const bytes = collect();
      for (let i = 0; i < stream.length; i++) bytes.dec.push(stream.subarray(i, i + 1));
      assert.deepEqual(bytes.out, SEED.map(([, m]) => m), `byte by byte, ${JSON.stringify(term)}`);
      assert.equal(bytes.dec.buffered, 0);
    }
  });

  it('accepts mixed terminators, CRLF line ends inside a body and stray blank lines between messages', () => {
    const { dec, out } = collect();
    dec.push(Buffer.from('\n\n\r\n\r\nREPLY {"a":\r\n1}\r\n\r\n\n\nSIGNAL   /x/y\t 5\n\nSTOP\r\n\r\n'));
    assert.deepEqual(out, [
      { kind: 'reply', body: { a: 1 } },
      { kind: 'signal', uri: '/x/y', data: 5 },
      { kind: 'stop', body: undefined },
    ]);
  });

  it('decodes UTF-8 bodies whatever the chunking (ASCII and non-ASCII chunks, a character split in two)', () => {
    const text = encode.notify({ message: 'Température 21 °C — ok' }) + encode.signal('/me/d/ü', 'naïve') + 'REPLY 1\n\n';
    const stream = Buffer.from(text);
    const expected: IsotelMessage[] = [
      { kind: 'notify', body: { message: 'Température 21 °C — ok' } },
      { kind: 'signal', uri: '/me/d/ü', data: 'naïve' },
      { kind: 'reply', body: 1 },
    ];
    for (let cut = 1; cut < stream.length; cut++) {
      const { dec, out } = collect();
      dec.push(stream.subarray(0, cut));
      dec.push(stream.subarray(cut));
      assert.deepEqual(out, expected, `cut at byte ${cut}`);
    }
  });

  it('tells requests, malformed JSON and incomplete keywords apart', () => {
    assert.deepEqual(decode(Buffer.from('hello there')), { kind: 'request', body: 'hello there' });
    assert.deepEqual(decode(Buffer.from('42')), { kind: 'request', body: 42 });
    assert.deepEqual(decode(Buffer.from('{"a":')), { kind: 'request', body: '{"a":', malformed: true, reason: 'Unexpected end of JSON input' });
    // Only the protocol's keywords, exactly and as a whole word, are dispatched; any other
    // first word (upper-case or not) makes the whole text a request.
    assert.deepEqual(decode(Buffer.from('PING {"x":1}')), { kind: 'request', body: 'PING {"x":1}' });
    assert.deepEqual(decode(Buffer.from('ON')), { kind: 'request', body: 'ON' });
    assert.deepEqual(decode(Buffer.from('  RESET now\r\n')), { kind: 'request', body: 'RESET now' });
    assert.deepEqual(decode(Buffer.from('STOPPED')), { kind: 'request', body: 'STOPPED' });
    assert.deepEqual(decode(Buffer.from('stop')), { kind: 'request', body: 'stop' });
    assert.deepEqual(decode(Buffer.from('Stop now')), { kind: 'request', body: 'Stop now' });
    assert.deepEqual(decode(Buffer.from('STOP,')), { kind: 'request', body: 'STOP,' });
    assert.deepEqual(decode(Buffer.from('SIGNAL_X /a 1')), { kind: 'request', body: 'SIGNAL_X /a 1' });
    assert.deepEqual(decode(Buffer.from('NOTIFY2 x')), { kind: 'request', body: 'NOTIFY2 x' });
    assert.deepEqual(decode(Buffer.from('STOP')), { kind: 'stop', body: undefined });
    assert.deepEqual(decode(Buffer.from('STOP\tnow')), { kind: 'stop', body: 'now' });
    assert.deepEqual(decode(Buffer.from('SIGNAL /a {"v":')), { kind: 'signal', uri: '/a', data: '{"v":', malformed: true, reason: 'Unexpected end of JSON input' });
    assert.equal(decode(Buffer.from('SIGNAL')).kind, 'invalid');
    assert.equal(decode(Buffer.from('SIGNAL\n{"a":1}')).kind, 'invalid');
    assert.equal(decode(Buffer.from('HREPLY {"mime":"text/plain"}')).kind, 'invalid');
    assert.equal(decode(Buffer.from('HREPLY nope')).kind, 'invalid');
    assert.deepEqual(decode(Buffer.from('HREPLY {"status":404,"body":"gone"}')), { kind: 'hreply', reply: { status: 404, mime: 'text/plain', body: 'gone' } });
    assert.deepEqual(decode(Buffer.from('REPLY plain text answer')), { kind: 'reply', body: 'plain text answer' });
    assert.deepEqual(decode(Buffer.from('REPLY')), { kind: 'reply', body: undefined });
  });

  it('parseBody: JSON when it parses, text otherwise', () => {
    assert.deepEqual(parseBody('{"a":[1,2]}'), { body: { a: [1, 2] }, malformed: false });
    assert.deepEqual(parseBody('true'), { body: true, malformed: false });
    assert.deepEqual(parseBody('12.75'), { body: 12.75, malformed: false });
    assert.deepEqual(parseBody('12 apples'), { body: '12 apples', malformed: false });
    assert.deepEqual(parseBody('[1,'), { body: '[1,', malformed: true, reason: 'Unexpected end of JSON input' });
    assert.deepEqual(parseBody(''), { body: undefined, malformed: false });
  });

  describe('encode', () => {
    it('writes the seed forms', () => {
      assert.equal(encode.ident({ name: 'IOT service 1', vendor: 'Isotel', version: '1.0' }), 'IDENT {"name":"IOT service 1","vendor":"Isotel","version":"1.0"}\n\n');
      assert.equal(encode.reply({ value: 123 }), 'REPLY {"value":123}\n\n');
      assert.equal(encode.reply('text'), 'REPLY text\n\n');
      assert.equal(encode.reply(undefined), 'REPLY\n\n');
      assert.equal(encode.hreply(200, 'application/json', { value: 123 }), 'HREPLY {"status":200,"mime":"application/json","body":{"value":123}}\n\n');
      assert.equal(encode.connect('/me/device0/ec/E'), 'CONNECT /me/device0/ec/E\n\n');
      assert.equal(encode.connect('me/device0/ec/E', { debounce_time: 1000, send_data: false }), 'CONNECT /me/device0/ec/E\r\n{"debounce_time":1000,"send_data":false}\n\n');
      assert.equal(encode.connectStatus('/me/device0/ec/E', false), 'CONNECT /me/device0/ec/E {"status":"Error"}\n\n');
      assert.equal(encode.disconnect('/me/device0/ec/E'), 'DISCONNECT /me/device0/ec/E\n\n');
      assert.equal(encode.disconnect(), 'DISCONNECT\n\n');
      assert.equal(encode.notify({ message: 'content...' }), 'NOTIFY {"message":"content..."}\n\n');
      assert.equal(encode.request({ action: 'ident' }), '{"action":"ident"}\n\n');
      assert.equal(encode.stop(), 'STOP\n\n');
      assert.throws(() => encode.connect('/a b'), RangeError);
      assert.throws(() => encode.signal('', 1), RangeError);
    });

    it('round-trips through the decoder', () => {
      const { dec, out } = collect();
      dec.push(Buffer.from(encode.connect('me/d/x', { debounce_time: 5 }) + encode.signal('/d/x', { v: 'a\n\nb' }) + encode.hreply(201, 'text/plain', 'made')));
      assert.deepEqual(out, [
        { kind: 'connect', uri: '/me/d/x', body: { debounce_time: 5 } },
        { kind: 'signal', uri: '/d/x', data: { v: 'a\n\nb' } },
        { kind: 'hreply', reply: { status: 201, mime: 'text/plain', body: 'made' } },
      ]);
    });

    it('can never emit a blank line inside a body (fuzzed, fixed seed)', () => {
      const rnd = prng(4242);
      const alphabet = ['\n', '\r', ' ', '\t', 'a', 'Z', '{', '"', '\r\n', '\n\n', '\r\n\r\n', 'é'];
      for (let n = 0; n < 3000; n++) {
        let s = '';
        const len = Math.floor(rnd() * 40);
        for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
        for (const text of [encode.reply(s), encode.signal('/p', s), encode.hreply(200, s || 'x', s), encode.notify({ message: s, module: s }), encode.reply({ s })]) {
          const body = text.slice(0, -2);
          assert.ok(!body.includes('\n\n') && !body.includes('\r\n\r\n') && !/\n[ \t]*\n/.test(body) && !body.endsWith('\n') && !body.endsWith('\r'), `blank line in ${JSON.stringify(text)}`);
          const { dec, out } = collect();
          dec.push(Buffer.from(text));
          assert.equal(out.length, 1, `one message for ${JSON.stringify(text)}`);
        }
        assert.equal(serializeBody(s), safeText(s));
      }
    });
  });

  describe('fuzz (fixed seed)', () => {
    const wellFormed = [
      encode.signal('/me/device0/ec/E', { status: 'OK', E: { value: '12.75' }, time: '1444751862.112' }),
      encode.request({ action: 'ident' }),
      encode.connectStatus('/me/device0/ec/E', true),
      encode.reply({ value: 123 }),
      'STOP\r\n\r\n',
      'SIGNAL  /me/device1/th/H  {"status":"OK","H":{"value":"45.10"}}\r\n\r\n',
    ];
    const expected = wellFormed.map((w) => decode(Buffer.from(w.replace(/(\r?\n)+$/, ''))));

    function garbage(rnd: () => number): Buffer {
      const n = Math.floor(rnd() * 300);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) {
        const r = rnd();
        // Mostly random bytes, with line breaks and JSON-ish characters mixed in.
        b[i] = r < 0.1 ? 0x0a : r < 0.15 ? 0x0d : r < 0.2 ? 0x7b : r < 0.25 ? 0x22 : r < 0.3 ? 0x20 : Math.floor(rnd() * 256);
      }
      return b;
    }

    it('random bytes and random splits: never throws, never loses a well-formed message that follows garbage', () => {
      const rnd = prng(0x15_07_e1);
      for (let n = 0; n < 5000; n++) {
        const k = Math.floor(rnd() * wellFormed.length);
        const sep = rnd() < 0.5 ? '\n\n' : '\r\n\r\n';
        const stream = Buffer.concat([garbage(rnd), Buffer.from(sep), Buffer.from(wellFormed[k])]);
        // Half the cases with a small size cap, so garbage also trips the oversize path.
        const { dec, out } = collect(rnd() < 0.5 ? 128 : undefined);
        for (const part of splitRandom(stream, rnd, 64)) dec.push(part);
        assert.ok(out.length >= 1, `case ${n}: nothing decoded`);
        assert.deepEqual(out[out.length - 1], expected[k], `case ${n}: well-formed message lost or garbled`);
        assert.equal(dec.buffered, 0, `case ${n}: bytes left over`);
      }
    });

    it('pure garbage never throws', () => {
      const rnd = prng(7);
      const { dec, out } = collect(1024);
      for (let n = 0; n < 2000; n++) for (const part of splitRandom(garbage(rnd), rnd, 64)) dec.push(part);
      for (const m of out) assert.ok(typeof m.kind === 'string');
    });
  });

  it('drops a message past the size cap and carries on with the next', () => {
    const { dec, out, oversize } = collect(1024);
    dec.push(Buffer.alloc(700, 0x61));
    dec.push(Buffer.alloc(700, 0x62));
    assert.equal(oversize.length, 1);
    dec.push(Buffer.from('still part of the dropped one\n\nREPLY 1\n\n'));
    assert.deepEqual(out, [{ kind: 'reply', body: 1 }]);
  });
});

describe('isotel codec: bodies go through the bounded JSON reader', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  it('a body nested past the limit is never built: it stays text, flagged with the reason', () => {
    const text = deep(100_000);
    const r = parseBody(text);
    assert.ok(r.body === text, 'the text itself');
    assert.equal(r.malformed, true);
    assert.match(String(r.reason), /nested too deeply/);
    const m = decode(Buffer.from(`CONNECT /me/x ${text}`));
    assert.equal(m.kind, 'connect');
    assert.equal(typeof (m as { body: unknown }).body, 'string');
    const s = decode(Buffer.from(`SIGNAL /me/x {"a":${text}}`));
    assert.equal(typeof (s as { data: unknown }).data, 'string');
  });

  it('a body within the limits is JSON as before', () => {
    assert.deepEqual(parseBody(deep(32)).body, JSON.parse(deep(32)));
    assert.equal(parseBody(deep(32)).malformed, false);
  });
});
