import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, Logger } from '@app/common';
import type { GatewayConfig } from '@app/config';

/** Root module of the gateway app: infrastructure from CoreModule plus this app's transport. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [CoreModule.forRoot('gateway', config, logger)],
    };
  }
}
