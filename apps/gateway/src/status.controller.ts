import { Controller, Get } from '@nestjs/common';
import type { ReplicaStatus } from '@app/gateway';
import { GatewayService } from './gateway.service';

/** GET /status: this replica's locations and their connection state. */
@Controller('status')
export class StatusController {
  constructor(private readonly gateway: GatewayService) {}

  @Get()
  status(): ReplicaStatus {
    return this.gateway.status();
  }
}
