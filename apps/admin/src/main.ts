import type { NestExpressApplication } from '@nestjs/platform-express';
import { bootstrapHttpApp, RunningApp } from '@app/common';
import { adminEnv, loadConfig } from '@app/config';
import { AdminModule } from './admin.module';
import { setupDocs } from './docs';

/** Starts the admin app with configuration from `env` (process.env by default). */
export function startAdmin(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'admin',
    loadConfig: () => loadConfig(adminEnv, env),
    module: (config, logger) => AdminModule.forRoot(config, logger),
    configure: (app, config) => {
      // bootstrapHttpApp turns Nest's body parser off; the admin API takes JSON bodies up to a limit.
      (app as NestExpressApplication).useBodyParser('json', { limit: config.ADMIN_MAX_BODY_BYTES });
      setupDocs(app);
    },
  });
}

if (require.main === module) {
  void startAdmin();
}
