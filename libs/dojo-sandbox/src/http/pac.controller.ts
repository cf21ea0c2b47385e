import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { SandboxInputError } from '../accounts';
import type { DojoSandbox } from '../dojo-sandbox';
import type { PacSettings, PacSwitches } from '../pac-hub';
import { PAC_AMOUNT_OUTCOMES, PAC_TID_OUTCOMES } from '../pac-terminals';
import { SANDBOX } from './token';

type Obj = Record<string, unknown>;
const obj = (b: unknown): Obj => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Obj) : {});
const requiredString = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw new SandboxInputError(`${name} is required`, { [name]: ['is required'] });
  return v;
};
const optString = (v: unknown, name: string): string | undefined => (v === undefined ? undefined : requiredString(v, name));
const optBool = (v: unknown, name: string): boolean | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new SandboxInputError(`${name} must be a boolean`, { [name]: ['must be true or false'] });
  return v;
};
const optMs = (v: unknown, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 3_600_000) throw new SandboxInputError(`${name} must be 0 to 3600000 ms`, { [name]: ['must be an integer from 0 to 3600000'] });
  return v as number;
};

/**
 * The control API of the Connect pay-at-counter endpoint (/pac): sockets,
 * virtual terminals, what they ran, timings and misbehaviour switches.
 */
@Controller('_sandbox/pac')
export class PacController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  /** Open PAC sockets per account (several per account are allowed). */
  @Get('connections')
  connections(@Query('accountId') accountId?: string) {
    return {
      counts: this.sim.pac.connectionCounts(),
      connections: this.sim.pac.connections(accountId).map((c) => ({ accountId: c.accountId, id: c.id, installerId: c.installerId, pingsSent: c.pingsSent, pongsReceived: c.pongsReceived, notices: c.notices.length })),
    };
  }

  /** The account's terminals with their status and last transaction, and the outcome table. */
  @Get('terminals')
  terminals(@Query('accountId') accountId?: string) {
    const id = requiredString(accountId, 'accountId');
    this.sim.accounts.require(id);
    return {
      terminals: [...this.sim.pac.terminals(id).values()].map((t) => ({ ...this.sim.pac.terminalView(t), transactions: t.transactions, last: t.last ?? null })),
      outcomes: { byTid: PAC_TID_OUTCOMES, byAmountEnding: PAC_AMOUNT_OUTCOMES, otherwise: 'approve' },
    };
  }

  /** Body: {accountId, tid, currency?, location?, remove?}: adds or changes a terminal, or takes it away (409 while it is busy). */
  @Post('terminals')
  @HttpCode(200)
  terminal(@Body() body: unknown) {
    const b = obj(body);
    const accountId = requiredString(b.accountId, 'accountId');
    this.sim.accounts.require(accountId);
    const tid = requiredString(b.tid, 'tid');
    if (optBool(b.remove, 'remove')) {
      if (!this.sim.pac.removeTerminal(accountId, tid)) throw new SandboxInputError(`terminal ${tid} is unknown or busy`, { tid: ['is unknown or busy'] });
      return { removed: tid };
    }
    return this.sim.pac.terminalView(this.sim.pac.addTerminal(accountId, { tid, currency: optString(b.currency, 'currency'), location: optString(b.location, 'location') }));
  }

  /** What the terminals ran (newest last): request id, outcome, notifications, signature answer, final transaction. */
  @Get('runs')
  runs(@Query('accountId') accountId?: string, @Query('tid') tid?: string) {
    return this.sim.pac.runs.filter((r) => (!accountId || r.accountId === accountId) && (!tid || r.tid === tid));
  }

  /** Every request the EPOS sent over /pac and how it was answered. */
  @Get('requests')
  requests(@Query('accountId') accountId?: string) {
    return this.sim.pac.requests.filter((r) => !accountId || r.accountId === accountId);
  }

  /** Body: {terminalTimeoutMs?, signatureWindowMs?, stepDelayMs?}. */
  @Post('settings')
  @HttpCode(200)
  settings(@Body() body: unknown): PacSettings {
    const b = obj(body);
    return this.sim.pac.configure({
      terminalTimeoutMs: optMs(b.terminalTimeoutMs, 'terminalTimeoutMs'),
      signatureWindowMs: optMs(b.signatureWindowMs, 'signatureWindowMs'),
      stepDelayMs: optMs(b.stepDelayMs, 'stepDelayMs'),
    });
  }

  /** Body: {neverReply?, replyTwice?, outOfOrder?, unreadableResult?, slowNotificationsMs?, dropMidTransaction?, refuseHandshake? (0, 401, 403, 503), reset?}. */
  @Post('misbehaviour')
  @HttpCode(200)
  misbehaviour(@Body() body: unknown): PacSwitches {
    const b = obj(body);
    if (b.reset === true) this.sim.pac.resetSwitches();
    const refuse = b.refuseHandshake;
    if (refuse !== undefined && refuse !== 0 && refuse !== 401 && refuse !== 403 && refuse !== 503) {
      throw new SandboxInputError('refuseHandshake must be 0, 401, 403 or 503', { refuseHandshake: ['must be 0, 401, 403 or 503'] });
    }
    return this.sim.pac.setSwitches({
      neverReply: optBool(b.neverReply, 'neverReply'),
      replyTwice: optBool(b.replyTwice, 'replyTwice'),
      outOfOrder: optBool(b.outOfOrder, 'outOfOrder'),
      unreadableResult: optBool(b.unreadableResult, 'unreadableResult'),
      slowNotificationsMs: optMs(b.slowNotificationsMs, 'slowNotificationsMs'),
      dropMidTransaction: optBool(b.dropMidTransaction, 'dropMidTransaction'),
      refuseHandshake: refuse,
    });
  }

  /** Body: {accountId?, terminate?}: drops the account's PAC sockets (all when omitted). */
  @Post('drop')
  @HttpCode(200)
  drop(@Body() body: unknown) {
    const b = obj(body);
    return { dropped: this.sim.pac.drop({ accountId: optString(b.accountId, 'accountId'), terminate: optBool(b.terminate, 'terminate') }) };
  }
}
