import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/**
 * A port free on 127.0.0.1 for TCP (and UDP when asked), for servers that cannot be told to take port 0 and
 * report it. Another process could take it before the server binds; the servers' start-up errors say so.
 */
export async function freePort(options: { udp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (!options.udp || (await udpFree(port))) return port;
  }
  throw new Error('no free port found on 127.0.0.1');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
