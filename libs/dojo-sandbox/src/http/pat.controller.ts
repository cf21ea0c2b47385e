import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { SandboxInputError } from '../accounts';
import type { DojoSandbox } from '../dojo-sandbox';
import { SANDBOX } from './token';

type Obj = Record<string, unknown>;
const obj = (b: unknown): Obj => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Obj) : {});
const requiredString = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw new SandboxInputError(`${name} is required`, { [name]: ['is required'] });
  return v;
};

/** The control API of the Connect PAT endpoint (/pat): connections, Connect's cut-off of a socket, terminal messages, load. */
@Controller('_sandbox/pat')
export class PatController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  /** Open PAT connections per account and how many were discontinued (replaced by a newer one). */
  @Get('connections')
  connections(@Query('accountId') accountId?: string) {
    const list = Object.keys(this.sim.pat.connectionCounts()).filter((a) => !accountId || a === accountId);
    return {
      connections: list.map((a) => {
        const c = this.sim.pat.routed(a)!;
        return { accountId: a, id: c.id, finalReceipt: c.finalReceipt, installerId: c.installerId, pingsSent: c.pingsSent, pongsReceived: c.pongsReceived };
      }),
      discontinued: Object.fromEntries(this.sim.pat.discontinued),
    };
  }

  /** Body: {accountId}: cut the account's socket off with "Connection Discontinued", as Connect does when another EPOS connects. */
  @Post('discontinue')
  @HttpCode(200)
  discontinue(@Body() body: unknown) {
    return { discontinued: this.sim.pat.discontinueCurrent(requiredString(obj(body).accountId, 'accountId')) };
  }

  /** Body: {accountId, method, params?, notify?}: one terminal message; the reply (null for a notification). */
  @Post('call')
  @HttpCode(200)
  async call(@Body() body: unknown) {
    const b = obj(body);
    return { reply: await this.sim.pat.call(requiredString(b.accountId, 'accountId'), requiredString(b.method, 'method'), obj(b.params), { notify: b.notify === true }) };
  }
}
