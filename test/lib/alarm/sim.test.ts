import assert from 'node:assert/strict';
import { SirenSim, TelegramSim } from '../../../lib/alarm/sim';
import { runSshCommand } from '../../../lib/alarm/siren';
import { TelegramClient, sendTelegramAlert } from '../../../lib/alarm/telegram';

describe('lib/alarm/sim: the demo stand-ins', () => {
  it('TelegramSim logs sendMessage and sendPhoto and answers like the Bot API', async () => {
    const lines: string[] = [];
    const sim = new TelegramSim({ log: (l) => lines.push(l) });
    const port = await sim.start();
    try {
      const client = new TelegramClient({ token: '1:x', apiBase: `http://127.0.0.1:${port}` });
      assert.deepEqual((await sendTelegramAlert(client, { chats: ['42'], title: 'T', message: 'Alarm' })).sent, ['42']);
      await sendTelegramAlert(client, { chats: ['@c'], title: 'T', message: 'Alarm', photo: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) });
      assert.equal(sim.events[0].kind, 'sendMessage');
      assert.equal(sim.events[0].detail.chat_id, 42);
      assert.equal(sim.events[1].kind, 'sendPhoto');
      assert.equal(sim.events[1].detail.chat_id, '@c');
      assert.equal(sim.events[1].detail.caption, '<b>T</b>\r\nAlarm');
      assert.equal(lines.length, 2);
      await assert.rejects(client.call('nope', {}), /HTTP 404/);
    } finally {
      await sim.stop();
    }
  });

  it('SirenSim accepts its user, logs the command and pins by the printed fingerprint', async () => {
    const sim = new SirenSim({ username: 'u', password: 'p' });
    const port = await sim.start();
    try {
      const r = await runSshCommand({ host: '127.0.0.1', port, username: 'u', password: 'p', command: 'aplay siren.wav -d 21', fingerprint: sim.fingerprint });
      assert.equal(r.code, 0);
      assert.deepEqual(sim.events.at(-1)?.detail, { user: 'u', command: 'aplay siren.wav -d 21' });
      await assert.rejects(runSshCommand({ host: '127.0.0.1', port, username: 'u', password: 'wrong', command: 'x' }));
    } finally {
      await sim.stop();
    }
  });
});
