import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { DojoSandbox } from '../dojo-sandbox';
import { intentBody } from '../payment-intents';
import type { SandboxAccount } from '../types';
import { unauthorized } from './errors';
import { requireApiVersion } from './version';
import { SANDBOX } from './token';

/**
 * Dojo's payment-intent endpoints (dojo-api-openapi.json): the `version` header
 * (a date) is required and request bodies are validated against the contract
 * (400 naming the field), state changes answer
 * 409 as Dojo does, and each status change is then told to the EPOS by event.
 */
@Controller('payment-intents')
export class PaymentIntentsRestController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  /** The caller's account (401 without a known key), then Dojo's required `version` header (400 without a date). */
  private account(authorization: string | undefined, version: string | undefined): SandboxAccount {
    const a = this.sim.accounts.fromAuthorization(authorization);
    if (!a) throw unauthorized();
    requireApiVersion(version);
    return a;
  }

  @Post()
  @HttpCode(200)
  create(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Headers('idempotencykey') key: string | undefined, @Body() body: unknown) {
    const a = this.account(auth, version);
    const pi = this.sim.paymentIntents.create(a.accountId, body, key);
    if (pi.createdAt === pi.updatedAt && pi.status === 'Created') this.sim.emitIntentEvents(pi, ['Created'], { created: true });
    return intentBody(pi, this.sim.checkoutBase);
  }

  @Get(':id')
  get(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Param('id') id: string) {
    const a = this.account(auth, version);
    return intentBody(this.sim.paymentIntents.get(a.accountId, id), this.sim.checkoutBase, { captures: !this.sim.misbehaviour.omitIntentCaptures });
  }

  @Delete(':id')
  cancel(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Param('id') id: string) {
    const a = this.account(auth, version);
    const changes = this.sim.paymentIntents.cancel(a.accountId, id);
    const pi = this.sim.paymentIntents.get(a.accountId, id);
    this.sim.emitIntentEvents(pi, changes);
    return intentBody(pi, this.sim.checkoutBase);
  }

  @Post(':id/captures')
  @HttpCode(200)
  async capture(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    const a = this.account(auth, version);
    const r = this.sim.paymentIntents.capture(a.accountId, id, body);
    this.sim.emitIntentEvents(this.sim.paymentIntents.get(a.accountId, id), r.changes);
    // A slow Dojo (delayCaptureAnswers): the capture is taken, its answer comes later.
    const delay = this.sim.misbehaviour.captureDelayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return { message: 'Captured', captureId: r.captureId };
  }

  @Post(':id/tips-amount')
  @HttpCode(200)
  tips(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    const a = this.account(auth, version);
    return intentBody(this.sim.paymentIntents.setTips(a.accountId, id, body), this.sim.checkoutBase);
  }

  @Post(':id/refunds')
  @HttpCode(200)
  refund(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Headers('idempotencykey') key: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    const a = this.account(auth, version);
    const r = this.sim.paymentIntents.refund(a.accountId, id, body, key);
    this.sim.emitIntentEvents(this.sim.paymentIntents.get(a.accountId, id), r.changes);
    return r.refund;
  }

  @Post(':id/reversal')
  @HttpCode(200)
  reverse(@Headers('authorization') auth: string | undefined, @Headers('version') version: string | undefined, @Param('id') id: string) {
    const a = this.account(auth, version);
    const r = this.sim.paymentIntents.reverse(a.accountId, id);
    this.sim.emitIntentEvents(this.sim.paymentIntents.get(a.accountId, id), r.changes);
    return { message: 'Reversed', reversalId: r.reversalId };
  }
}
