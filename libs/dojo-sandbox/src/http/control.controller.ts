import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { SandboxInputError } from '../accounts';
import type { DojoSandbox } from '../dojo-sandbox';
import { SandboxAccount } from '../types';
import { SANDBOX } from './token';

type Obj = Record<string, unknown>;
const obj = (b: unknown): Obj => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Obj) : {});
const optStr = (v: unknown, name: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SandboxInputError(`${name} must be a string`, { [name]: ['must be a string'] });
  return v;
};
const optBool = (v: unknown, name: string): boolean | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new SandboxInputError(`${name} must be a boolean`, { [name]: ['must be true or false'] });
  return v;
};
const optInt = (v: unknown, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0) throw new SandboxInputError(`${name} must be a non-negative integer`, { [name]: ['must be a non-negative integer'] });
  return v as number;
};

/**
 * The sandbox's own control API (local use, no auth): inspect state and switch
 * misbehaviour on and off. Mirrors the DojoSandbox methods.
 */
@Controller('_sandbox')
export class ControlController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  @Get('state')
  state() {
    return {
      accounts: this.sim.accounts.all().map((a) => ({ accountId: a.accountId, softwareHouseId: a.softwareHouseId, webhookUrl: a.webhookUrl })),
      connections: this.sim.hub.connectionCounts(),
      misbehaviour: this.sim.misbehaviour,
      pingIntervalMs: this.sim.hub.pingIntervalMs,
    };
  }

  @Get('pos-events')
  posEvents(@Query('accountId') accountId?: string) {
    return this.sim.posEvents.filter((e) => !accountId || e.accountId === accountId);
  }

  @Get('registrations')
  registrations() {
    return this.sim.registrations;
  }

  @Get('connections')
  connections(@Query('accountId') accountId?: string) {
    return { counts: this.sim.hub.connectionCounts(), connections: this.sim.connections(accountId) };
  }

  @Get('webhook-deliveries')
  deliveries(@Query('accountId') accountId?: string) {
    return this.sim.webhookDeliveries.filter((d) => !accountId || d.accountId === accountId);
  }

  @Get('stray-frames')
  stray() {
    return this.sim.strayFrames;
  }

  @Get('stats')
  stats() {
    return this.sim.latency.stats();
  }

  @Post('stats/reset')
  @HttpCode(204)
  resetStats(): void {
    this.sim.latency.reset();
  }

  /** Body: one account or an array of accounts (bulk). */
  @Post('accounts')
  @HttpCode(200)
  addAccounts(@Body() body: unknown) {
    const list = (Array.isArray(body) ? body : (obj(body).accounts as unknown[] | undefined) ?? [body]) as SandboxAccount[];
    return { added: list.map((a) => this.sim.addAccount(a).accountId) };
  }

  /** Body: {accountId?, terminate?, code?}; all connections when accountId is omitted. */
  @Post('drop')
  @HttpCode(200)
  drop(@Body() body: unknown) {
    const b = obj(body);
    return { dropped: this.sim.dropConnections(optStr(b.accountId, 'accountId'), { terminate: optBool(b.terminate, 'terminate'), code: optInt(b.code, 'code') }) };
  }

  /** Body: {paused?, delayMs?, intervalMs?}. */
  @Post('pings')
  @HttpCode(200)
  pings(@Body() body: unknown) {
    const b = obj(body);
    this.sim.setPings({ paused: optBool(b.paused, 'paused'), delayMs: optInt(b.delayMs, 'delayMs'), intervalMs: optInt(b.intervalMs, 'intervalMs') });
    return this.state();
  }

  /** Body: {answer: boolean}: whether EPOS pings get a pong. */
  @Post('pongs')
  @HttpCode(200)
  pongs(@Body() body: unknown) {
    const answer = optBool(obj(body).answer, 'answer');
    if (answer === undefined) throw new SandboxInputError('answer is required', { answer: ['is required'] });
    this.sim.answerPongs(answer);
    return this.state();
  }

  /** Body: {duplicateRequests?, duplicateWebhooks?, webhooksOutOfOrder?, loseIntentEvents?, omitIntentCaptures?, reset?}. */
  @Post('misbehaviour')
  @HttpCode(200)
  misbehaviour(@Body() body: unknown) {
    const b = obj(body);
    if (b.reset === true) this.sim.resetMisbehaviour();
    const d = optBool(b.duplicateRequests, 'duplicateRequests');
    if (d !== undefined) this.sim.duplicateRequests(d);
    const w = optBool(b.duplicateWebhooks, 'duplicateWebhooks');
    if (w !== undefined) this.sim.duplicateWebhooks(w);
    const o = optBool(b.webhooksOutOfOrder, 'webhooksOutOfOrder');
    if (o !== undefined) this.sim.webhooksOutOfOrder(o);
    const l = optBool(b.loseIntentEvents, 'loseIntentEvents');
    if (l !== undefined) this.sim.loseIntentEvents(l);
    const c = optBool(b.omitIntentCaptures, 'omitIntentCaptures');
    if (c !== undefined) this.sim.omitIntentCaptures(c);
    return this.state();
  }

  /** Body: {accountId, kind: 'malformed' | 'unknown-method' | 'raw' | 'error-notification', data?, method?, id?}. */
  @Post('send')
  @HttpCode(200)
  async send(@Body() body: unknown) {
    const b = obj(body);
    const accountId = optStr(b.accountId, 'accountId');
    if (!accountId) throw new SandboxInputError('accountId is required', { accountId: ['is required'] });
    switch (b.kind) {
      case 'malformed':
        this.sim.sendMalformed(accountId, optStr(b.data, 'data'));
        return { sent: true };
      case 'raw':
        this.sim.sendRaw(accountId, optStr(b.data, 'data') ?? '');
        return { sent: true };
      case 'unknown-method':
        try {
          return { sent: true, reply: await this.sim.sendUnknownMethod(accountId, optStr(b.method, 'method')) };
        } catch (err) {
          return { sent: true, reply: null, error: (err as Error).message };
        }
      case 'error-notification':
        // The Tables API's ErrorNotification (Dojo could not read a reply); the EPOS must log it and never answer.
        this.sim.sendErrorNotification(accountId, optStr(b.id, 'id'), optStr(b.data, 'data'));
        return { sent: true };
      default:
        throw new SandboxInputError('kind must be malformed, unknown-method, raw or error-notification', {
          kind: ['must be malformed, unknown-method, raw or error-notification'],
        });
    }
  }

  /** Body: {accountId, method, params}: one routed call; 409 when not registered, 503 when not connected. */
  @Post('call')
  @HttpCode(200)
  async call(@Body() body: unknown) {
    const b = obj(body);
    const accountId = optStr(b.accountId, 'accountId');
    const method = optStr(b.method, 'method');
    if (!accountId || !method) throw new SandboxInputError('accountId and method are required');
    return this.sim.call(accountId, method, obj(b.params));
  }

  /** Body: {accountId, event?, data?, webhook?, socket?}: one payment-intent event by webhook and socket. */
  @Post('payment-events')
  @HttpCode(200)
  paymentEvent(@Body() body: unknown) {
    const b = obj(body);
    const accountId = optStr(b.accountId, 'accountId');
    if (!accountId) throw new SandboxInputError('accountId is required', { accountId: ['is required'] });
    return this.sim.sendPaymentEvent(
      accountId,
      { ...(typeof b.event === 'string' ? { event: b.event } : {}), data: obj(b.data) },
      { webhook: optBool(b.webhook, 'webhook'), socket: optBool(b.socket, 'socket') },
    );
  }
}
