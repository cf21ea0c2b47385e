import type { RunningApp } from '@app/common';
import { bootstrapHttpApp } from '@app/common';
import { webhookEnv, loadConfig } from '@app/config';
import { WebhookModule } from './webhook.module';

/** Starts the webhook app with configuration from `env` (process.env by default). */
export function startWebhook(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'webhook',
    loadConfig: () => loadConfig(webhookEnv, env),
    module: (config, logger) => WebhookModule.forRoot(config, logger),
  });
}

if (require.main === module) {
  // A failed start rejects unhandled: Node prints the error and exits non-zero, which is what we want.
  void startWebhook();
}
