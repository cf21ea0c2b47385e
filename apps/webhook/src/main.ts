import type { RunningApp } from '@app/common';
import { bootstrapHttpApp, LOGGER, serveFastRoute } from '@app/common';
import { webhookEnv, loadConfig } from '@app/config';
import { DojoWebhookHandler } from './dojo-webhook.handler';
import { WebhookModule } from './webhook.module';

/** Starts the webhook app with configuration from `env` (process.env by default). */
export function startWebhook(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'webhook',
    loadConfig: () => loadConfig(webhookEnv, env),
    module: (config, logger) => WebhookModule.forRoot(config, logger),
    // The one hot route skips Express and Nest's pipeline; health, metrics and everything else stay on the app.
    configure: (app) => {
      const handler = app.get(DojoWebhookHandler);
      serveFastRoute(app.getHttpServer(), 'POST', '/webhooks/dojo', (req, res) => handler.receive(req, res), app.get(LOGGER));
    },
  });
}

if (require.main === module) {
  // A failed start rejects unhandled: Node prints the error and exits non-zero, which is what we want.
  void startWebhook();
}
