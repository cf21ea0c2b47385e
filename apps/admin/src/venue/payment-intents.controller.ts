import { Body, Controller, Get, Headers, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError } from '@app/domain/admin';
import {
  CancelPaymentIntent, CapturePaymentIntent, ChangePaymentIntentTips, CreatePaymentIntent, GetPaymentIntent, ListOrderPaymentIntents,
  RefundPaymentIntent, ReversePaymentIntent,
} from '@app/domain/payment-intents';
import { VenueGuard } from '../shared/guards';
import { jsonSchema, oneOf, parseBody } from '../shared/validation';

/** Money in the venue API: integer minor units, never a decimal string. */
const minor = (what: string) =>
  z.number({ error: `${what} must be an integer of minor units (e.g. 1050 for 10.50)` }).int(`${what} must be an integer of minor units`).min(1).max(Number.MAX_SAFE_INTEGER);
const reason = z.string().trim().min(1, 'a reason is required').max(1024);

const CreateBody = z.strictObject({
  amount: minor('amount').optional().describe('Minor units; default: what is outstanding and not yet in open intents or counter sales still running'),
  tipsAllowed: z.boolean().default(false),
  captureMode: oneOf(['Auto', 'Manual'] as const).default('Auto'),
  description: z.string().max(4096).optional(),
});
const CaptureBody = z.strictObject({ amount: minor('amount').optional().describe('Minor units; default: the whole intent') });
const TipsBody = z.strictObject({ tipsAmount: z.number().int('tipsAmount must be an integer of minor units').min(0).max(Number.MAX_SAFE_INTEGER) });
const RefundBody = z.strictObject({ amount: minor('amount').optional().describe('Minor units, at most what was captured plus tips, less what is refunded; default: all of that'), reason });
const ReverseBody = z.strictObject({ reason });

const IDEMPOTENCY_HEADER = { name: 'Idempotency-Key', required: true, description: 'One per new object (1-100 characters); a repeat answers the first result, a reuse with another body is 409' };

function idempotencyKey(v: string | undefined): string {
  if (!v || v.length > 100 || !/^[\x21-\x7e]+$/.test(v)) {
    throw DomainError.invalid([{ field: 'Idempotency-Key', reason: 'header required: 1-100 printable ASCII characters, one per new object' }]);
  }
  return v;
}

const big = (n: number | undefined) => (n === undefined ? undefined : BigInt(n));

/**
 * Online payments of the venue's orders: Dojo payment intents with a checkout
 * link and its QR code, settled on the order by Dojo's events. Money in minor
 * units; every create takes an Idempotency-Key header.
 */
@ApiTags('venue payment intents')
@ApiBearerAuth('venue')
@UseGuards(VenueGuard)
@Controller('venue/v1/locations/:locationId')
export class PaymentIntentsController {
  constructor(
    private readonly create: CreatePaymentIntent,
    private readonly list: ListOrderPaymentIntents,
    private readonly get: GetPaymentIntent,
    private readonly cancel: CancelPaymentIntent,
    private readonly capture: CapturePaymentIntent,
    private readonly tips: ChangePaymentIntentTips,
    private readonly refund: RefundPaymentIntent,
    private readonly reverse: ReversePaymentIntent,
  ) {}

  @Post('orders/:orderId/payment-intents')
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Create a payment intent for the order (all that is outstanding, or a part) in the order's currency; answers its id, status, checkout URL and a QR code of it (SVG, PNG data URL). 409 for a closed or non-payable order, when open intents and counter sales still running already cover what is outstanding, or while Dojo holds a live lock on the order (locked, with lockExpiresAt); 409 no_dojo_api_key at a location that does not speak EPOS Data (its secret is not a Dojo API key)",
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ schema: jsonSchema(CreateBody) })
  createIntent(@Param('locationId') locationId: string, @Param('orderId') orderId: string, @Headers('idempotency-key') key: string | undefined, @Body() body: unknown) {
    const b = parseBody(CreateBody, body);
    return this.create.execute(locationId, { orderId, idempotencyKey: idempotencyKey(key), amount: big(b.amount), tipsAllowed: b.tipsAllowed, captureMode: b.captureMode, description: b.description });
  }

  @Get('orders/:orderId/payment-intents')
  @ApiOperation({ summary: "The order's payment intents with their statuses, oldest first" })
  listIntents(@Param('locationId') locationId: string, @Param('orderId') orderId: string) {
    return this.list.execute(locationId, orderId);
  }

  @Get('payment-intents/:paymentIntentId')
  @ApiOperation({ summary: 'One payment intent, with its checkout URL and QR code' })
  getIntent(@Param('locationId') locationId: string, @Param('paymentIntentId') id: string) {
    return this.get.execute(locationId, id);
  }

  @Post('payment-intents/:paymentIntentId/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Cancel an intent nobody has paid yet (status Created). Once Dojo accepts, the answer is the intent Canceled and its amount is free at once: a new intent may ask for it straight away; Dojo's Canceled event then changes nothing. 409 for an intent past Created",
  })
  cancelIntent(@Param('locationId') locationId: string, @Param('paymentIntentId') id: string) {
    return this.cancel.execute(locationId, id);
  }

  @Post('payment-intents/:paymentIntentId/capture')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Capture an Authorized intent, whatever its captureMode (Manual, or Auto left Authorized by a card that needs a capture), all of it by default or a part; Dojo's Captured event then records what was captured on the order, which stays payable for the rest. 409 unless Authorized",
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ schema: jsonSchema(CaptureBody) })
  captureIntent(@Param('locationId') locationId: string, @Param('paymentIntentId') id: string, @Headers('idempotency-key') key: string | undefined, @Body() body: unknown) {
    const b = parseBody(CaptureBody, body);
    return this.capture.execute(locationId, id, { idempotencyKey: idempotencyKey(key), amount: big(b.amount) });
  }

  @Post('payment-intents/:paymentIntentId/tips')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change the tips of an intent created with tipsAllowed, before it is captured' })
  @ApiBody({ schema: jsonSchema(TipsBody) })
  changeTips(@Param('locationId') locationId: string, @Param('paymentIntentId') id: string, @Body() body: unknown) {
    const b = parseBody(TipsBody, body);
    return this.tips.execute(locationId, id, BigInt(b.tipsAmount));
  }

  @Post('payment-intents/:paymentIntentId/refunds')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Refund a Captured intent in full or in part, with a reason: at most what was captured of it (a partial capture took less than the intent) plus its tips, less what is refunded already (more is 400, Dojo is not asked); the refund comes off the payment on the order at once',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ schema: jsonSchema(RefundBody) })
  refundIntent(@Param('locationId') locationId: string, @Param('paymentIntentId') id: string, @Headers('idempotency-key') key: string | undefined, @Body() body: unknown) {
    const b = parseBody(RefundBody, body);
    return this.refund.execute(locationId, id, { idempotencyKey: idempotencyKey(key), amount: big(b.amount), reason: b.reason });
  }

  @Post('payment-intents/:paymentIntentId/reversal')
  @HttpCode(200)
  @ApiOperation({ summary: "Reverse an Authorized or Captured intent, with a reason; Dojo's Reversed event then undoes the payment on the order" })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiBody({ schema: jsonSchema(ReverseBody) })
  reverseIntent(@Param('locationId') locationId: string, @Param('paymentIntentId') id: string, @Headers('idempotency-key') key: string | undefined, @Body() body: unknown) {
    const b = parseBody(ReverseBody, body);
    return this.reverse.execute(locationId, id, { idempotencyKey: idempotencyKey(key), reason: b.reason });
  }
}
