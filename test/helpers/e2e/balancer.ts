import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer on 127.0.0.1 in front of several control-plane replicas, as a Kubernetes Service is: each
 * new connection goes to the next backend in turn, and to the one after when a backend refuses (it is dead).
 * Connections to a backend that dies are cut, so agents reconnect, and land on a live one.
 */
export class Balancer {
  readonly url: string;
  readonly #server: Server;
  readonly #backends: number[];
  readonly #sockets = new Set<Socket>();
  /** Connections made to each backend port. */
  readonly connections = new Map<number, number>();
  #next = 0;

  private constructor(server: Server, backends: number[]) {
    this.#server = server;
    this.#backends = backends;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(backends: number[]): Promise<Balancer> {
    const accept = { to: (client: Socket): void => void client.destroy() };
    const server = createServer((client) => accept.to(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const balancer = new Balancer(server, backends);
    accept.to = (client) => balancer.accept(client);
    return balancer;
  }

  accept(client: Socket): void {
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    this.#route(client, 0);
  }

  #route(client: Socket, tries: number): void {
    if (tries >= this.#backends.length) {
      client.destroy();
      return;
    }
    const port = this.#backends[this.#next++ % this.#backends.length] ?? 0;
    const upstream = connect({ host: '127.0.0.1', port });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.connections.set(port, (this.connections.get(port) ?? 0) + 1);
      this.#sockets.add(upstream);
      upstream.on('close', () => {
        this.#sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected) this.#route(client, tries + 1);
      else client.destroy();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
