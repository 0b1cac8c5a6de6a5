/* global process, Buffer, console, setTimeout */
// An MQTT broker for tests on machines without Debian's mosquitto: aedes (npm), in a child
// process (aedes is an ES module). Usage: node aedes-broker.mjs <port> <stateFile>
// Prints "listening <port>" once bound (port 0 = any free one). Retained messages are kept
// across restarts the way mosquitto's persistence keeps them: written to <stateFile> on
// SIGTERM/SIGINT and loaded again at start.
import fs from 'node:fs';
import net from 'node:net';
import { Aedes } from 'aedes';

const [port, stateFile] = [Number(process.argv[2] || 0), process.argv[3]];
const broker = await Aedes.createBroker();
if (stateFile && fs.existsSync(stateFile)) {
  for (const p of JSON.parse(fs.readFileSync(stateFile, 'utf8'))) {
    // aedes 1.x sets its persistence up with `await persistence.setup(broker)`, which never marks
    // the callback wrapper "ready": its callback form would wait for that forever. Use the
    // promise form (no callback).
    await broker.persistence.storeRetained({ cmd: 'publish', topic: p.topic, payload: Buffer.from(p.payload, 'base64'), qos: p.qos, retain: true, dup: false });
  }
}
const server = net.createServer(broker.handle);
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));

async function stop() {
  const retained = [];
  if (stateFile) {
    for await (const p of broker.persistence.createRetainedStream('#')) retained.push({ topic: p.topic, payload: Buffer.from(p.payload).toString('base64'), qos: p.qos });
    fs.writeFileSync(stateFile, JSON.stringify(retained));
  }
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
