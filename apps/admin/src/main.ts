import { bootstrapHttpApp, RunningApp } from '@app/common';
import { adminEnv, loadConfig } from '@app/config';
import { AdminModule } from './admin.module';

/** Starts the admin app with configuration from `env` (process.env by default). */
export function startAdmin(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'admin',
    loadConfig: () => loadConfig(adminEnv, env),
    module: (config, logger) => AdminModule.forRoot(config, logger),
  });
}

if (require.main === module) {
  void startAdmin();
}
