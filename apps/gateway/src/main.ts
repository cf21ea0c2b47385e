import type { RunningApp } from '@app/common';
import { bootstrapHttpApp } from '@app/common';
import { gatewayEnv, loadConfig } from '@app/config';
import { GatewayModule } from './gateway.module';

/** Starts the gateway app with configuration from `env` (process.env by default). */
export function startGateway(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'gateway',
    loadConfig: () => loadConfig(gatewayEnv, env),
    module: (config, logger) => GatewayModule.forRoot(config, logger),
  });
}

if (require.main === module) {
  // A failed start rejects unhandled: Node prints the error and exits non-zero, which is what we want.
  void startGateway();
}
