/**
 * A minimal app started through bootstrapHttpApp whose start takes a given time in an onApplicationBootstrap hook
 * (as the worker's do while they connect their queues), for the test of a signal that arrives during start-up.
 * Usage: node slow-start-app.js <start delay ms> <SHUTDOWN_TIMEOUT_MS>. Started as its own process, by its path in the build output, by test/integration/foundation/shutdown-during-start.test.ts.
 */
import 'reflect-metadata';
import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { Logger } from '@app/common';
import { bootstrapHttpApp } from '@app/common';

class SlowStart implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly log: Logger,
    private readonly delayMs: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.log.info('slow start begun');
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.log.info('slow start finished');
  }

  onApplicationShutdown(): void {
    this.log.info('slow start service closed');
  }
}

@Module({})
class SlowStartModule {
  static forRoot(logger: Logger, delayMs: number): DynamicModule {
    return { module: SlowStartModule, providers: [{ provide: SlowStart, useFactory: () => new SlowStart(logger, delayMs) }] };
  }
}

// Arguments, not environment variables: a fixture's own knobs are no setting of the platform's.
const [delayMs, shutdownTimeoutMs] = process.argv.slice(2).map(Number) as [number, number];
void bootstrapHttpApp({
  name: 'slow-start',
  loadConfig: () => ({ PORT: 0, HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs }),
  module: (_config, logger) => SlowStartModule.forRoot(logger, delayMs),
});
