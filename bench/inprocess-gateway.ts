/**
 * The in-process baseline of the request-path benchmark: a gateway replica
 * whose dispatch calls RpcDispatcher.handle() in its own process (no BullMQ,
 * no worker process), like a single-process connector. Same configuration as
 * the gateway app (gatewayEnv); run as a child process by bench/run.ts.
 */
import { createServer } from 'node:http';
import { createLogger, createRedis, metricsRegistry, prismaOptions } from '@app/common';
import { gatewayEnv, loadConfig } from '@app/config';
import { createPrisma, SecretBox } from '@app/db';
import { IngestDojoEvent } from '@app/domain/events';
import { DojoEventsRepository } from '@app/domain/events';
import { BullmqEventEnqueuer } from '@app/queue';
import { EPOS_DATA, RpcDispatcher } from '@app/domain/rpc';
import { defaultProfiles, GatewayManager, gatewayManagerOptions, gatewayReadCache, InProcessRpcCaller, LocationSource } from '@app/gateway';

async function main(): Promise<void> {
  const config = loadConfig(gatewayEnv, process.env);
  const logger = createLogger('gateway-inprocess', config.LOG_LEVEL);
  const prisma = createPrisma(config.DATABASE_URL, prismaOptions(config, 'gateway-inprocess', logger));
  const redis = createRedis(config.REDIS_URL);
  const subscriber = createRedis(config.REDIS_URL, 'blocking');
  const enqueuer = new BullmqEventEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
  const ingest = new IngestDojoEvent(new DojoEventsRepository(prisma), enqueuer, logger);
  const opts = gatewayManagerOptions(config);
  // As the gateway app: reads from the copy of the orders read while Postgres announces their changes
  // (GATEWAY_READ_CACHE; GATEWAY_READS=queue turns it off here too).
  const readCache = gatewayReadCache(config, logger);
  await readCache?.start();
  const dispatcher = new RpcDispatcher({ prisma, dialect: EPOS_DATA, logger, events: { ingest: (cmd) => ingest.execute(cmd) }, orderCache: readCache?.orders });
  // A change answered late (after the deadline's failure) may have committed then: the cache hears of it too.
  const caller = new InProcessRpcCaller(dispatcher, (job) => readCache?.changed(job.locationId));
  const manager = new GatewayManager(opts, {
    redis,
    subscriber,
    rpc: caller,
    // Reads and changes both run here; named apart so the dispatcher tells the read cache of the changes.
    reads: readCache ? caller : undefined,
    readCache,
    locations: new LocationSource(prisma, new SecretBox(config.EPOS_RELAY_ENCRYPTION_KEY)),
    profiles: defaultProfiles(),
    logger: logger.child({ replicaId: opts.replicaId }),
  });
  await manager.start();
  // The bench reads the read cache's counters here (as it does at the gateway app's /metrics).
  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  if (config.PORT) metrics.listen(config.PORT, '127.0.0.1');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    metrics.close();
    await manager.stop().catch(() => undefined); // best effort on shutdown: the process exits next
    await readCache?.close();
    subscriber.disconnect();
    redis.disconnect();
    await enqueuer.close().catch(() => undefined); // best effort on shutdown
    await prisma.$disconnect().catch(() => undefined); // best effort on shutdown
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop()); // stop() swallows its own failures
  process.once('SIGINT', () => void stop()); // stop() swallows its own failures
}

main().catch((err) => {
  process.stderr.write(`in-process gateway failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
