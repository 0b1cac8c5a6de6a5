/**
 * HaloInput guards every path of network input (issue #11): a throw while a message is handled —
 * here a downstream `send` that throws, as Node-RED's message clone did on deep JSON — becomes a
 * `failed` warning for that message; the socket reads on and the next message gets through.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { FakeClock } from '../../../lib/common/clock';
import { HaloInput, type HaloOutMessage, type HaloWarning } from '../../../lib/halo/input';
import { until } from '../../helpers/wait';

describe('halo input: a throw while handling a message is a warning, never an uncaught exception', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`${transport}: a throwing downstream send, then a good message`, async () => {
      const warnings: HaloWarning[] = [];
      const events: HaloOutMessage[] = [];
      let throwNext = true;
      const input = new HaloInput(
        { transport, host: '127.0.0.1', port: 0, heartbeatIntervalMs: 0, clock: new FakeClock(0) },
        {
          event: (m) => {
            if (throwNext) {
              throwNext = false;
              throw new RangeError('Maximum call stack size exceeded');
            }
            events.push(m);
          },
          health: () => undefined,
          warn: (w) => warnings.push(w),
        },
      );
      await input.start();
      const port = input.port ?? 0;
      const send = (text: string): Promise<void> =>
        transport === 'tcp'
          ? new Promise((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port }, () => s.end(text));
              s.on('close', () => resolve());
              s.on('error', () => resolve());
            })
          : new Promise((resolve) => {
              const u = dgram.createSocket('udp4');
              u.send(text, port, '127.0.0.1', () => {
                u.close();
                resolve();
              });
            });
      try {
        await send('{"device":"H","event":"Vape","alarm":"yes"}\n');
        await until(() => warnings.length === 1, 'the failed warning');
        assert.equal(warnings[0].code, 'failed');
        assert.match((warnings[0] as { message: string }).message, /RangeError: Maximum call stack size exceeded/);
        await send('{"device":"H","event":"Vape","alarm":"no"}\n');
        await until(() => events.length === 1, 'the next message');
        assert.equal(events[0].payload.kind, 'reset');
      } finally {
        await input.close();
      }
    });
  }
});
