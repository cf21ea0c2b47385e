/**
 * Preloaded (NODE_OPTIONS=--require) into every file of the unit tier, which
 * runs without Postgres or Redis. A connection to their ports is a test in the
 * wrong tier: it is refused loudly, and the process exits with code 1 shortly
 * after, since client libraries (ioredis, pg pools) would otherwise retry until
 * the test timeout. Move such a test to test/integration.
 */
import net from 'node:net';

const REFUSED: Record<number, string> = { 5432: 'Postgres', 6379: 'Redis' };

function portOf(args: unknown[]): number | undefined {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // net.connect() hands over its normalized [options, callback]
  if (first && typeof first === 'object') return Number((first as { port?: unknown }).port);
  if (typeof first === 'number' || typeof first === 'string') return Number(first);
  return undefined;
}

// The original method, called below with the socket as `this`.
// eslint-disable-next-line @typescript-eslint/unbound-method
const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const port = portOf(args);
  const what = port === undefined ? undefined : REFUSED[port];
  if (what) {
    const err = new Error(
      `unit tier: a test tried to reach ${what} (port ${port}). The unit tier (npm run test:unit) starts no Postgres or Redis; ` +
        'a test that needs them belongs in test/integration.',
    );
    process.stderr.write(`\n${err.stack}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
    throw err;
  }
  return connect.apply(this, args);
};
