import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';

/** A TCP proxy to the test Redis that can be cut: Redis "goes away" for whoever connected through it. */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  private target!: URL;
  port = 0;

  async start(target: URL, port = 0): Promise<this> {
    this.target = target;
    this.server = createServer((down) => {
      const up = connect(Number(target.port), target.hostname);
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => undefined); // the proxy cuts sockets on purpose
        s.on('close', () => this.sockets.delete(s));
      }
      down.pipe(up);
      up.pipe(down);
    });
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Stops accepting and drops every connection: the port is closed from now on. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Accepts again on the same port (Redis is back, as after a failover). */
  async restore(): Promise<void> {
    await this.start(this.target, this.port);
  }
}
