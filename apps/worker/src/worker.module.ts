import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, Logger } from '@app/common';
import type { WorkerConfig } from '@app/config';
import { RpcWorkerService } from './rpc-worker.service';
import { EventsWorker } from './events.worker';
import { OutboxWorker } from './outbox.worker';
import { RegistrationWorker } from './registration.worker';
import { CounterWorker } from './counter.worker';
import { RetentionWorker } from './retention.worker';
import { QueueDepthController } from './queue-depth.controller';
import { WorkerMetricsService } from './worker-metrics.service';

/** Root module of the worker app: infrastructure from CoreModule plus this app's transport. */
@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [CoreModule.forRoot('worker', config, logger)],
      controllers: [QueueDepthController],
      providers: [RpcWorkerService, EventsWorker, OutboxWorker, RegistrationWorker, CounterWorker, RetentionWorker, WorkerMetricsService],
    };
  }
}
