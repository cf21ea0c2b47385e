import { Body, Controller, Get, Headers, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { SandboxInputError } from '../accounts';
import type { DojoSandbox } from '../dojo-sandbox';
import { SandboxAccount, WsIntegration } from '../types';
import { unauthorized } from './errors';
import { requireApiVersion } from './version';
import { SANDBOX } from './token';

/**
 * Stand-ins for Dojo's REST API (bodies per dojo-api-openapi.json), authenticated
 * like Dojo: `Authorization: Basic <key>` with the key as-is. The webhook operations
 * also require the `version` header (a date); the EPOS ones have none in the spec.
 */
@Controller()
export class DojoRestController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  private account(authorization: string | undefined): SandboxAccount {
    const a = this.sim.accounts.fromAuthorization(authorization);
    if (!a) throw unauthorized();
    return a;
  }

  @Put('epos/integrations/ws')
  @HttpCode(200)
  registerWs(@Headers('authorization') auth: string | undefined, @Body() body: unknown): WsIntegration[] {
    const a = this.account(auth);
    const caps = (body as { capabilities?: unknown })?.capabilities;
    if (!Array.isArray(caps) || !caps.every((c) => c && typeof c.name === 'string' && typeof c.version === 'string')) {
      throw new SandboxInputError('capabilities must be an array of {name, version}', { capabilities: ['must be an array of {name, version}'] });
    }
    return [this.sim.accounts.register(a.accountId, caps as { name: string; version: string }[])];
  }

  @Get('epos/integrations/ws')
  listWs(@Headers('authorization') auth: string | undefined): WsIntegration[] {
    const a = this.account(auth);
    const i = this.sim.accounts.integrations.get(a.accountId);
    return i ? [i] : [];
  }

  @Get('epos/integrations')
  listAll(@Headers('authorization') auth: string | undefined) {
    const a = this.account(auth);
    const i = this.sim.accounts.integrations.get(a.accountId);
    return { wsIntegrations: i ? [i] : [], restIntegrations: [], dojoManagedIntegrations: [] };
  }

  @Post('epos/events')
  @HttpCode(200)
  posEvent(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    const a = this.account(auth);
    const rec = this.sim.accounts.recordPosEvent(a.accountId, body);
    return { eventType: rec.eventType, event: rec.event };
  }

  @Post('webhooks')
  @HttpCode(200)
  subscribe(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Body() body: unknown) {
    const a = this.account(auth);
    requireApiVersion(version);
    return this.sim.accounts.subscribe(a.accountId, body);
  }

  @Get('webhooks')
  subscriptions(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined) {
    const a = this.account(auth);
    requireApiVersion(version);
    return this.sim.accounts.subscriptions.get(a.accountId) ?? [];
  }
}
