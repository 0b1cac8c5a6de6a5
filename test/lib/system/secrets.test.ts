/**
 * lib/system/secrets: what is masked when served (declared keys, secret-looking keys at any
 * depth, every credential-bearing part of a URL) and when a masked value sent back is restored
 * (only while every field deciding where the secret goes is unchanged).
 */
import assert from 'node:assert/strict';
import { SECRET_MASK, changedDestinations, maskSection, maskUrl, unmaskSection, urlHasCredentials } from '../../../lib/system/secrets';

const M = SECRET_MASK;

describe('lib/system/secrets', () => {
  describe('maskUrl', () => {
    const cases: Array<[string, string]> = [
      ['rtsp://admin:hunter2@10.0.0.5:554/live', `rtsp://admin:${M}@10.0.0.5:554/live`],
      // a password with '/', '?', '#', '@' in it: the user-info ends at the LAST '@'
      ['rtsp://admin:pa/ss@10.0.0.5/live', `rtsp://admin:${M}@10.0.0.5/live`],
      ['rtsp://admin:p?a#s@s@10.0.0.5/live', `rtsp://admin:${M}@10.0.0.5/live`],
      // a user-info without ':' may be a token: masked whole
      ['https://tok3n@cam.example/x.jpg', `https://${M}@cam.example/x.jpg`],
      // query and path parameters
      ['http://10.0.0.5/snap.jpg?user=admin&pwd=s3cret', `http://10.0.0.5/snap.jpg?user=admin&pwd=${M}`],
      ['http://10.0.0.5/cgi-bin/api.cgi?cmd=Snap&channel=0&user=admin&password=s3cret', `http://10.0.0.5/cgi-bin/api.cgi?cmd=Snap&channel=0&user=admin&password=${M}`],
      ['rtsp://10.0.0.5:554/user=admin&password=s3cret&channel=1&stream=0.sdp', `rtsp://10.0.0.5:554/user=admin&password=${M}&channel=1&stream=0.sdp`],
      ['http://h/x?access_token=abc;api_key=def&Sig=ghi', `http://h/x?access_token=${M};api_key=${M}&Sig=${M}`],
      // nothing to mask
      ['http://127.0.0.1:6030/video.mjpeg', 'http://127.0.0.1:6030/video.mjpeg'],
      ['/var/clips/a.mjpeg', '/var/clips/a.mjpeg'],
      ['http://h/x?user=admin&pwd=', 'http://h/x?user=admin&pwd='],
    ];
    for (const [url, served] of cases) {
      it(`${url} → ${served}`, () => {
        assert.equal(maskUrl(url), served);
        assert.equal(urlHasCredentials(url), url !== served);
      });
    }
  });

  describe('maskSection', () => {
    it('masks declared keys, secret-looking keys at any depth and URL credentials wherever they are', () => {
      const served = maskSection(
        { secretKeys: ['bot'] },
        { bot: 'x', api_key: 'k', empty_token: '', nested: { password: 'p', list: [{ secret: 's' }] }, url: 'rtsp://a:b@h/', other: 'https://u:v@h/' },
      );
      assert.deepEqual(served, {
        bot: M,
        api_key: M,
        empty_token: '',
        nested: { password: M, list: [{ secret: M }] },
        url: `rtsp://a:${M}@h/`,
        other: `https://u:${M}@h/`,
      });
    });
  });

  describe('unmaskSection', () => {
    const telegram = { enabled: true, api_key: '123:SECRET', api_base: 'https://api.telegram.org', chat_ids: ['1'] };
    const spec = { secretKeys: ['api_key'] };
    const loc = ['alerters', 'telegram'];

    it('restores a masked secret when nothing that decides its destination changed', () => {
      const r = unmaskSection(spec, { ...maskSection(spec, telegram), enabled: false, chat_ids: ['2'] }, telegram, loc);
      assert.deepEqual(r, { value: { ...telegram, enabled: false, chat_ids: ['2'] } });
    });

    it('refuses a masked or left-out secret when the API base changed; accepts the secret itself', () => {
      const moved = { ...maskSection(spec, telegram), api_base: 'http://evil.example' };
      const r = unmaskSection(spec, moved, telegram, loc);
      assert.ok('errors' in r);
      assert.deepEqual(r.errors.map((e) => [e.loc, e.type]), [[['alerters', 'telegram', 'api_key'], 'value_error.secret']]);
      assert.match(r.errors[0].msg, /api_base changed/);
      const without: Record<string, unknown> = { ...moved };
      delete without.api_key;
      assert.ok('errors' in unmaskSection(spec, without, telegram, loc), 'left out counts as kept');
      assert.deepEqual(unmaskSection(spec, { ...moved, api_key: 'NEW' }, telegram, loc), { value: { ...moved, api_key: 'NEW' } });
    });

    it('host, port, user and fingerprint are destinations; a mask with nothing stored is refused', () => {
      const siren = { ssh_host: 'siren.lan', ssh_port: 22, ssh_user: 'pi', host_fingerprint: 'SHA256:x', password: 'pw', command: 'aplay' };
      for (const k of ['ssh_host', 'ssh_port', 'ssh_user', 'host_fingerprint']) {
        assert.deepEqual(changedDestinations({}, { ...siren, [k]: 'other' }, siren), [k]);
        assert.ok('errors' in unmaskSection({}, { ...siren, [k]: 'other', password: M }, siren, ['alerters', 'siren']));
      }
      assert.deepEqual(changedDestinations({}, { ...siren, ssh_port: '22', command: 'x' }, siren), [], 'same port as a string; command is no destination');
      const r = unmaskSection({}, { ...siren, password: M }, { ...siren, password: '' }, ['alerters', 'siren']);
      assert.ok('errors' in r && /no stored secret/.test(r.errors[0].msg));
    });

    it('held secrets: any destination change is refused, even carrying new values', () => {
      const cam = { url: 'http://cam.lan/video.mjpeg' };
      const spec2 = { urlKeys: ['url'], heldSecrets: true };
      const r = unmaskSection(spec2, { url: 'http://evil.example/video.mjpeg' }, cam, ['camera']);
      assert.ok('errors' in r);
      assert.deepEqual(r.errors[0].loc, ['camera', 'url']);
      assert.deepEqual(unmaskSection(spec2, { url: 'http://cam.lan/other.mjpeg' }, cam, ['camera']), { value: { url: 'http://cam.lan/other.mjpeg' } }, 'same host, other path');
    });

    it('URL credentials are restored only while scheme, host, port and user are unchanged', () => {
      const stored = { url: 'rtsp://admin:pa/ss@cam.lan:554/live?pwd=q1&x=1' };
      const spec3 = { urlKeys: ['url'] };
      const served = maskSection(spec3, stored);
      assert.equal(served.url, `rtsp://admin:${M}@cam.lan:554/live?pwd=${M}&x=1`);
      assert.deepEqual(unmaskSection(spec3, served, stored, ['camera']), { value: stored });
      assert.deepEqual(unmaskSection(spec3, { url: `rtsp://admin:${M}@cam.lan:554/other?pwd=${M}` }, stored, ['camera']), {
        value: { url: 'rtsp://admin:pa/ss@cam.lan:554/other?pwd=q1' },
      });
      for (const moved of [
        `rtsp://admin:${M}@evil.example:554/live`,
        `rtsp://admin:${M}@cam.lan:8554/live`,
        `rtsps://admin:${M}@cam.lan:554/live`,
        `rtsp://root:${M}@cam.lan:554/live`,
        `rtsp://admin:${M}@cam.lan:554/x@evil.example/`,
        `rtsp://admin:${M}@evil.example/@cam.lan:554/live`,
        `rtsp://cam.lan:554/live?pwd=${M}&x=@evil`,
        `rtsp://admin:${M}@cam.lan:554/live?token=${M}`,
      ]) {
        const r = unmaskSection(spec3, { url: moved }, stored, ['camera']);
        assert.ok('errors' in r, moved);
        assert.equal(r.errors[0].type, 'value_error.secret');
      }
    });
  });
});
