import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { DojoSandbox } from '../dojo-sandbox';
import { ControlController } from './control.controller';
import { DojoRestController } from './dojo-rest.controller';
import { SandboxErrorFilter } from './errors';
import { FlowsController } from './flows.controller';
import { CheckoutController } from './checkout.controller';
import { PaymentIntentsRestController } from './payment-intents.controller';
import { PatController } from './pat.controller';
import { PacController } from './pac.controller';
import { SANDBOX } from './token';

/** HTTP side of the sandbox: Dojo REST stand-ins, the flows API and the /_sandbox control API. */
@Module({})
export class SandboxHttpModule {
  static forRoot(sim: DojoSandbox): DynamicModule {
    return {
      module: SandboxHttpModule,
      controllers: [DojoRestController, PaymentIntentsRestController, CheckoutController, FlowsController, ControlController, PatController, PacController],
      providers: [
        { provide: SANDBOX, useValue: sim },
        { provide: APP_FILTER, useClass: SandboxErrorFilter },
      ],
    };
  }
}
