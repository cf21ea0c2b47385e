import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, Logger } from '@app/common';
import type { WebhookConfig } from '@app/config';

/** Root module of the webhook app: infrastructure from CoreModule plus this app's transport. */
@Module({})
export class WebhookModule {
  static forRoot(config: WebhookConfig, logger: Logger): DynamicModule {
    return {
      module: WebhookModule,
      imports: [CoreModule.forRoot('webhook', config, logger)],
    };
  }
}
