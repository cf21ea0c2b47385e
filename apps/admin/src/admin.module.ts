import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, Logger } from '@app/common';
import type { AdminConfig } from '@app/config';

/** Root module of the admin app: infrastructure from CoreModule plus this app's transport. */
@Module({})
export class AdminModule {
  static forRoot(config: AdminConfig, logger: Logger): DynamicModule {
    return {
      module: AdminModule,
      imports: [CoreModule.forRoot('admin', config, logger)],
    };
  }
}
