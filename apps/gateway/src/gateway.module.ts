import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, Logger } from '@app/common';
import type { GatewayConfig } from '@app/config';
import { GatewayService } from './gateway.service';
import { StatusController } from './status.controller';

/** Root module of the gateway app: infrastructure from CoreModule plus the outbound links and GET /status. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [CoreModule.forRoot('gateway', config, logger)],
      controllers: [StatusController],
      providers: [GatewayService],
      exports: [GatewayService],
    };
  }
}
