// A TCP proxy on 127.0.0.1 between the browser and the server whose link
// can go silent: while stalled it accepts and reads, but forwards nothing
// and closes nothing, as a dead network path does. A connection that lost
// bytes that way stays silent for good (its stream is broken); connections
// made after resume() work again.

import net from 'node:net';

export async function startSilentProxy(targetPort) {
  let stalled = false;
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    let broken = false;
    const relay = (from, to) =>
      from.on('data', (chunk) => {
        if (stalled) broken = true;
        if (!broken) to.write(chunk);
      });
    relay(client, upstream);
    relay(upstream, client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        // a peer that really closed is passed on, unless the link is silent
        if (stalled) broken = true;
        if (!broken) (s === client ? upstream : client).destroy();
      });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
