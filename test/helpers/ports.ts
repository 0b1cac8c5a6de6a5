/**
 * The one "pick a port, then release it" helper (no Node-RED import, so brokers and benches can
 * use it). It is a race to listen there later: a server under test listens on port 0 and reports
 * its port instead. Use this only for "connection refused" tests and for programs that cannot
 * report a port they bound themselves (mosquitto, Node-RED core `tcp in` in a benchmark).
 */
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
