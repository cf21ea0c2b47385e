import type { RunningApp } from '@app/common';
import { bootstrapHttpApp } from '@app/common';
import { workerEnv, loadConfig } from '@app/config';
import { WorkerModule } from './worker.module';

/** Starts the worker app with configuration from `env` (process.env by default). */
export function startWorker(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'worker',
    loadConfig: () => loadConfig(workerEnv, env),
    module: (config, logger) => WorkerModule.forRoot(config, logger),
  });
}

if (require.main === module) {
  void startWorker();
}
