import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { LOGGER, Logger } from '@app/common';
import { ConnectPac, COUNTER_RESOLUTIONS, COUNTER_STATES } from '@app/contracts';
import type { CounterEvent } from '@app/contracts';
import { DomainError } from '@app/domain/admin';
import {
  AnswerCardholderSignature, CancelCounterTransaction, CounterStreamHead, GetCounterTransaction, ListCounterTerminals, ListCounterTransactions,
  parseCounterCursor, ReadCounterEvents, ResolveCounterTransaction, StartCounterTransaction,
} from '@app/domain/counter';
import { VenueGuard } from '../shared/guards';
import { jsonSchema, oneOf, parseBody, parseQuery } from '../shared/validation';
import { CounterStreamHub } from './counter-stream.service';

const minor = (what: string, max: number, min = 1) =>
  z.number({ error: `${what} must be an integer of minor units (e.g. 1050 for 10.50)` }).int(`${what} must be an integer of minor units`).min(min).max(max);

const TransactionBody = z.strictObject({
  kind: oneOf(['sale', 'refund'] as const),
  amount: minor('amount', ConnectPac.PAC_MAX_AMOUNT),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as GBP').optional().describe("Default: the location's currency"),
  amountCashback: minor('amountCashback', ConnectPac.PAC_MAX_CASHBACK, 0).optional().describe('A sale only'),
  orderId: z.string().min(1).max(200).optional().describe("A sale against the venue's order: recorded on it once the terminal approves"),
  refundOf: z.uuid('must be the transaction id of a counter sale').optional().describe("A refund of an earlier counter sale (its transaction id): applied to the payment that sale recorded on its order once the terminal approves"),
});
const SignatureBody = z.strictObject({ accepted: z.boolean() });
const ResolveBody = z.strictObject({
  resolution: oneOf(COUNTER_RESOLUTIONS).describe("What the terminal's receipts show: the card was charged, or not"),
  amountGratuity: minor('amountGratuity', ConnectPac.PAC_MAX_AMOUNT, 0).optional().describe("A sale resolved as charged: the tip on the terminal's receipt"),
});
const TerminalsQuery = z.object({ refresh: z.enum(['true', 'false']).optional() });
const ListQuery = z.object({
  tid: z.string().min(1).max(64).optional(),
  state: oneOf(COUNTER_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const EventsQuery = z.object({ after: z.string().max(50).optional() });

const IDEMPOTENCY_HEADER = { name: 'Idempotency-Key', required: true, description: 'One per transaction (1-100 characters); a retry answers the same transaction (200), another request with it is 422' };

function idempotencyKey(v: string | undefined): string {
  if (!v || v.length > 100 || !/^[\x21-\x7e]+$/.test(v)) {
    throw DomainError.invalid([{ field: 'Idempotency-Key', reason: 'header required: 1-100 printable ASCII characters, one per transaction' }]);
  }
  return v;
}

function terminalId(tid: string): string {
  if (tid.length < 1 || tid.length > 64) throw DomainError.invalid([{ field: 'tid', reason: 'must be 1-64 characters' }]);
  return tid;
}

/** A comment line every 15 s keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** A stream also reads Postgres this often, so a lost wake-up only delays. */
const POLL_MS = 5_000;
const PAGE = 200;

/**
 * Pay at counter (Connect PAC): the venue's POS drives its counter terminals
 * through the gateway that owns the venue's PAC link. Commands are stored
 * before they are answered (202) and executed at most once; progress and
 * results stream as Server-Sent Events (`terminal-events`) and stay readable.
 */
@ApiTags('venue pay at counter')
@ApiBearerAuth('venue')
@UseGuards(VenueGuard)
@Controller('venue/v1/locations/:locationId')
export class CounterController {
  constructor(
    private readonly terminals: ListCounterTerminals,
    private readonly start: StartCounterTransaction,
    private readonly list: ListCounterTransactions,
    private readonly get: GetCounterTransaction,
    private readonly cancel: CancelCounterTransaction,
    private readonly resolve: ResolveCounterTransaction,
    private readonly answer: AnswerCardholderSignature,
    private readonly events: ReadCounterEvents,
    private readonly head: CounterStreamHead,
    private readonly hub: CounterStreamHub,
    private readonly guard: VenueGuard,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('terminals')
  @ApiOperation({
    summary: "The venue's connected counter terminals with their status (AVAILABLE, BUSY), as the owning gateway last read them, and the PAC link's state",
    description: '`refresh=true` asks the gateway to read them now and waits up to 3 s for it. 404 `counter_not_configured` when the location has no PAC link.',
  })
  @ApiQuery({ name: 'refresh', required: false, enum: ['true', 'false'] })
  listTerminals(@Param('locationId') locationId: string, @Query() query: unknown) {
    return this.terminals.execute(locationId, parseQuery(TerminalsQuery, query).refresh === 'true');
  }

  @Post('terminals/:tid/transactions')
  @ApiOperation({
    summary: 'Start a sale or refund on a terminal: 202 with the transaction (state accepted), 200 with the same transaction for a retry of the Idempotency-Key',
    description:
      'A sale against an order (`orderId`) must fit what the order has left to pay (net of counter sales still running against it and its open payment intents), else 409 `order_not_payable`, and is refused with 409 `locked` (with `lockExpiresAt`) while Dojo holds a live lock on the order; once the terminal approves, the payment is recorded on the order once (payment id = the transaction id). A refund of such a sale (`refundOf`: its transaction id) must fit what is left to refund of that payment, tips included and net of the refunds still running against it, else 409 `not_refundable` (404 for an unknown sale); once the terminal approves, it comes off the payment (paid first, then tips; the payment is Refunded once in full) and the order\'s totals follow. A refund without `refundOf` changes no order. Follow it on `terminal-events` or `terminal-transactions/{id}`.',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ schema: jsonSchema(TransactionBody) })
  async startTransaction(
    @Param('locationId') locationId: string,
    @Param('tid') tid: string,
    @Headers('idempotency-key') key: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const b = parseBody(TransactionBody, body);
    const r = await this.start.execute(locationId, {
      idempotencyKey: idempotencyKey(key),
      kind: b.kind,
      tid: terminalId(tid),
      amount: BigInt(b.amount),
      ...(b.amountCashback !== undefined ? { amountCashback: BigInt(b.amountCashback) } : {}),
      ...(b.currency ? { currency: b.currency } : {}),
      ...(b.orderId ? { orderId: b.orderId } : {}),
      ...(b.refundOf ? { refundOf: b.refundOf } : {}),
    });
    res.status(r.created ? 202 : 200);
    return r.view;
  }

  @Post('terminals/:tid/duplicate')
  @ApiOperation({ summary: "Ask a terminal for its last transaction (Connect's duplicate), e.g. after a lost result: 202 with a transaction of kind duplicate whose result is that transaction" })
  @ApiHeader(IDEMPOTENCY_HEADER)
  async duplicate(@Param('locationId') locationId: string, @Param('tid') tid: string, @Headers('idempotency-key') key: string | undefined, @Res({ passthrough: true }) res: Response) {
    const r = await this.start.execute(locationId, { idempotencyKey: idempotencyKey(key), kind: 'duplicate', tid: terminalId(tid) });
    res.status(r.created ? 202 : 200);
    return r.view;
  }

  @Get('terminal-transactions')
  @ApiOperation({ summary: 'Counter transactions, newest first', description: `A finished transaction's \`result\` is Connect's: ${ConnectPac.PAC_TRANSACTION_RESULTS.join(', ')}.` })
  @ApiQuery({ name: 'tid', required: false, type: String })
  @ApiQuery({ name: 'state', required: false, enum: COUNTER_STATES })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  listTransactions(@Param('locationId') locationId: string, @Query() query: unknown) {
    const q = parseQuery(ListQuery, query);
    return this.list.execute(locationId, { limit: q.limit, ...(q.tid ? { tid: q.tid } : {}), ...(q.state ? { state: q.state } : {}) });
  }

  @Get('terminal-transactions/:id')
  @ApiOperation({ summary: "One counter transaction: its state, result, the terminal's receipt lines once finished, the payment recorded, and its events" })
  readTransaction(@Param('locationId') locationId: string, @Param('id') id: string) {
    return this.get.execute(locationId, id);
  }

  @Post('terminal-transactions/:id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a transaction: one not sent yet fails at once; one on the terminal is asked to stop (its outcome still arrives); 409 `not_cancellable` once it has ended',
  })
  cancelTransaction(@Param('locationId') locationId: string, @Param('id') id: string) {
    return this.cancel.execute(locationId, id);
  }

  @Post('terminal-transactions/:id/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: "Resolve a transaction that failed `outcome_unknown` with what the terminal's receipts show",
    description:
      "Until it is resolved, such a transaction holds its amount on its order (or on the sale it refunds): no other counter sale, card machine lock or checkout link takes that money. `charged` records the sale's payment on its order (with `amountGratuity` as its tip), or applies the refund to its sale's payment, as a SUCCESSFUL outcome would have; `not_charged` releases the hold. The same resolution again answers the same; 409 `already_resolved` for the other one, 409 `not_resolvable` for a transaction that did not fail `outcome_unknown`.",
  })
  @ApiBody({ schema: jsonSchema(ResolveBody) })
  resolveTransaction(@Param('locationId') locationId: string, @Param('id') id: string, @Body() body: unknown) {
    const b = parseBody(ResolveBody, body);
    return this.resolve.execute(locationId, id, { resolution: b.resolution, ...(b.amountGratuity !== undefined ? { amountGratuity: BigInt(b.amountGratuity) } : {}) }, randomUUID());
  }

  @Post('terminal-transactions/:id/signature')
  @HttpCode(200)
  @ApiOperation({
    summary: "Answer the terminal's signature verification request: `{accepted, by: 'pos'}`",
    description: "409 `signature_already_answered` (with `applied`: the venue's default came first) or `no_signature_request`. The request arrives as a `signature.requested` event with `answerBy`.",
  })
  @ApiBody({ schema: jsonSchema(SignatureBody) })
  answerSignature(@Param('locationId') locationId: string, @Param('id') id: string, @Body() body: unknown) {
    return this.answer.execute(locationId, id, parseBody(SignatureBody, body).accepted);
  }

  @Get('terminal-events')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Server-Sent Events: every counter event of the venue as it happens (transaction state changes, terminal notifications, signature requests and answers)',
    description:
      '`id:` is the event id, `event:` its type (`transaction`, `notification`, `signature.requested`, `signature.answered`), `data:` the CounterEvent as JSON. With `Last-Event-ID` (or `after`) the stored events after it are replayed first, in order; without, the stream starts now. A comment line every 15 s keeps the connection alive. 404 `counter_not_configured` when the location has no PAC link.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The last event id received: resume after it' })
  @ApiQuery({ name: 'after', required: false, type: String })
  async stream(@Param('locationId') locationId: string, @Query() query: unknown, @Headers('last-event-id') lastEventId: string | undefined, @Req() req: Request, @Res() res: Response) {
    const q = parseQuery(EventsQuery, query);
    const given = lastEventId ?? q.after;
    if (given !== undefined && given !== '' && !parseCounterCursor(given)) {
      throw DomainError.invalid([{ field: lastEventId !== undefined ? 'Last-Event-ID' : 'after', reason: 'is not an event id of this stream' }]);
    }
    // Without a cursor the stream starts now: after the newest readable event, and without the events after it that
    // were already committed when it opened (readable later only because an older transaction of the cluster runs).
    const head = await this.head.execute(locationId);
    // A client gone while the guard or the head read ran has already closed (its 'close' came before anyone listened):
    // no timers, no hub listener (it would mark the location as having a listening POS). Nothing below awaits until
    // the close handler is on.
    if (res.destroyed) return;
    let cursor = given || head.cursor;
    const before = given ? new Set<string>() : head.seen;
    const log = this.logger.child({ locationId, component: 'counter-stream' });
    let closed = false;
    let reading = false;
    let again = false;
    let waitingFor: string | undefined;
    let retry: NodeJS.Timeout | undefined;
    /** Set once the hub listens (the client may have gone before that). */
    const subscription: { stop?: () => void } = {};
    const send = (e: CounterEvent) => {
      if (before.delete(e.id)) return;
      res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const later = (a: string, b: string) => {
      const x = parseCounterCursor(a)!;
      const y = parseCounterCursor(b)!;
      return x.tx > y.tx || (x.tx === y.tx && x.id > y.id);
    };
    const pump = async (): Promise<void> => {
      if (closed) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        for (;;) {
          again = false;
          const page = await this.events.execute(locationId, cursor, PAGE);
          for (const e of page) send(e);
          if (page.length) cursor = page[page.length - 1]!.id;
          if (page.length < PAGE && !again) break;
        }
        // A published event not readable yet (an older transaction of the cluster still runs): read again shortly.
        if (waitingFor && later(waitingFor, cursor)) {
          clearTimeout(retry);
          retry = setTimeout(() => void pump(), 50);
        } else waitingFor = undefined;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'counter stream read failed; retrying');
      } finally {
        reading = false;
      }
    };
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearInterval(poll);
      clearTimeout(retry);
      subscription.stop?.();
      res.end();
    };
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write(': counter events\n\n');
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    // Each poll also checks the token the stream was opened with: revoking it ends the stream within POLL_MS.
    const poll = setInterval(() => {
      void this.guard.stillAuthorized(req).then(
        (ok) => {
          if (ok) return pump();
          log.info('the venue token of this stream was revoked; closing it');
          end();
        },
        (err: Error) => log.warn({ err: err.message }, 'could not check the stream token; checking again at the next poll'),
      );
    }, POLL_MS);
    req.on('close', end);
    subscription.stop = await this.hub.listen(
      locationId,
      (id) => {
        if (id && parseCounterCursor(id) && (!waitingFor || later(id, waitingFor))) waitingFor = id;
        void pump();
      },
      end,
    );
    if (closed) subscription.stop();
    await pump();
  }
}
