import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Put, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import {
  DeleteArea, DeleteBillTemplate, DeleteOrder, GetVenueOrder, DeleteParty, DeleteReservation, DeleteTable, PutBillTemplate, ReadVenueFeed, UpsertArea,
  UpsertOrder, UpsertParty, UpsertReservation, UpsertTable,
} from '@app/domain/venue';
import { VenueGuard } from '../shared/guards';
import { etagOf, parseIfMatch, parseQuery } from '../shared/validation';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const FeedQuery = z.object({
  after: z.string().max(50).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * The venue API: a venue's POS keeps its data here (Dojo's shapes) and reads
 * what happened on Dojo's side from a cursor feed. A venue token reaches only
 * routes under its own location id.
 */
@ApiTags('venue')
@ApiBearerAuth('venue')
@UseGuards(VenueGuard)
@Controller('venue/v1/locations/:locationId')
export class VenueController {
  constructor(
    private readonly upsertOrder: UpsertOrder,
    private readonly deleteOrder: DeleteOrder,
    private readonly upsertParty: UpsertParty,
    private readonly deleteParty: DeleteParty,
    private readonly upsertReservation: UpsertReservation,
    private readonly deleteReservation: DeleteReservation,
    private readonly upsertArea: UpsertArea,
    private readonly deleteArea: DeleteArea,
    private readonly upsertTable: UpsertTable,
    private readonly deleteTable: DeleteTable,
    private readonly putBill: PutBillTemplate,
    private readonly deleteBill: DeleteBillTemplate,
    private readonly feed: ReadVenueFeed,
    private readonly getOrder: GetVenueOrder,
  ) {}

  @Get('orders/:orderId')
  @ApiOperation({
    summary: "The order's totals, payable flag and payments in minor units (what card machines and online payments did to it)",
    description:
      "A payment's paidAmount/tipsAmount are what it counts towards the order: net of what was refunded of it (a refund comes off paidAmount first, then tips), 0 once reversed, canceled or fully refunded; capturedAmount/capturedTipsAmount are what was taken and refundedAmount what was refunded of it (cumulative).",
  })
  async readOrder(@Param('locationId') locationId: string, @Param('orderId') orderId: string, @Res({ passthrough: true }) res: Response) {
    const order = await this.getOrder.execute(locationId, orderId);
    res.setHeader('ETag', etagOf(order.version));
    return order;
  }

  @Put('orders/:orderId')
  @ApiOperation({
    summary: "Create or replace an order (Dojo's Order shape); refused with 409 while Dojo holds a lock",
    description:
      'Writes of one order are applied one after another, each answering the version it wrote and whether it created the order: of several PUTs of a new order sent at once, one creates it and the others replace it in turn. paidAmount and tipsAmount follow the payments, whatever the body says; payable is false when the body says so (the venue hold, which later changes of the payments keep until a PUT without it), for a closed order, and for one its payments already cover. An order with a payment, a payment intent or a counter sale still running keeps its currency: another one is 409 order_currency_fixed. A replace may not lower totalAmount below what is paid plus what open payment intents and counter sales still running may take: 409 order_total_below_paid, with paidAmount, heldAmount and leastTotalAmount (refund, cancel the intent or let the sale end first). Nor may it close an open order (Finalized, Canceled, Failed) while an open payment intent or a running counter sale may still take money for it: 409 order_payment_in_flight, with openIntentAmount and counterSaleAmount.',
  })
  @ApiBody({ schema: ref('Order') })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The ETag of the version this write replaces ("5": GET and PUT answer it): 412 version_mismatch, with the stored version, when the order has changed since, unless it already holds exactly what this body would write (a retry after a lost answer: 200 with unchanged: true and the stored version, nothing written); * writes only over an existing order. Without it the last write wins.',
  })
  async putOrder(
    @Param('locationId') locationId: string,
    @Param('orderId') orderId: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const written = await this.upsertOrder.execute(locationId, orderId, body, parseIfMatch(ifMatch));
    if (written.version !== undefined) res.setHeader('ETag', etagOf(written.version));
    return written;
  }

  @Delete('orders/:orderId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an order; refused with 409 while Dojo holds a lock, and for an order with money recorded against it',
    description:
      'An order with any payment, any payment intent or a counter sale still running is kept with its records: 409 order_has_payments, with payments, paymentIntents and counterSaleRunning. Close it instead (PUT with status Finalized or Canceled).',
  })
  async removeOrder(@Param('locationId') locationId: string, @Param('orderId') orderId: string) {
    await this.deleteOrder.execute(locationId, orderId);
  }

  @Put('parties/:partyId')
  @ApiOperation({
    summary: "Create or replace a party (Dojo's Party shape)",
    description:
      "A replace keeps the stored guestRequests whatever the body says (the guest's own requests, set through Dojo, which Dojo's contract says the EPOS may not edit: a body read earlier never overwrites what the guest changed since; a create takes the body's), and keeps the stored deposit when the body has none (a body with one replaces it).",
  })
  @ApiBody({ schema: ref('Party') })
  putParty(@Param('locationId') locationId: string, @Param('partyId') partyId: string, @Body() body: unknown) {
    return this.upsertParty.execute(locationId, partyId, body);
  }

  @Delete('parties/:partyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a party' })
  async removeParty(@Param('locationId') locationId: string, @Param('partyId') partyId: string) {
    await this.deleteParty.execute(locationId, partyId);
  }

  @Put('reservations/:reservationId')
  @ApiOperation({
    summary: "Create or replace a reservation (Dojo's Reservation shape)",
    description:
      "A replace keeps the stored guestRequests whatever the body says (the guest's own requests, set through Dojo, which Dojo's contract says the EPOS may not edit; a create takes the body's).",
  })
  @ApiBody({ schema: ref('Reservation') })
  putReservation(@Param('locationId') locationId: string, @Param('reservationId') reservationId: string, @Body() body: unknown) {
    return this.upsertReservation.execute(locationId, reservationId, body);
  }

  @Delete('reservations/:reservationId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a reservation' })
  async removeReservation(@Param('locationId') locationId: string, @Param('reservationId') reservationId: string) {
    await this.deleteReservation.execute(locationId, reservationId);
  }

  @Put('areas/:areaId')
  @ApiOperation({ summary: "Create or replace an area (Dojo's Area shape)" })
  @ApiBody({ schema: ref('Area') })
  putArea(@Param('locationId') locationId: string, @Param('areaId') areaId: string, @Body() body: unknown) {
    return this.upsertArea.execute(locationId, areaId, body);
  }

  @Delete('areas/:areaId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an area that has no tables' })
  async removeArea(@Param('locationId') locationId: string, @Param('areaId') areaId: string) {
    await this.deleteArea.execute(locationId, areaId);
  }

  @Put('tables/:tableId')
  @ApiOperation({
    summary: "Create or replace a table (Dojo's Table shape)",
    description: 'At a location on the Tables API (protocol dojo-tables) a name containing " - " is 400 naming name: its card machines show "<table name> - <session name>".',
  })
  @ApiBody({ schema: ref('Table') })
  putTable(@Param('locationId') locationId: string, @Param('tableId') tableId: string, @Body() body: unknown) {
    return this.upsertTable.execute(locationId, tableId, body);
  }

  @Delete('tables/:tableId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a table; refused with 409 table_in_use while open orders name it',
    description:
      'Orders not closed (status other than Finalized, Canceled, Failed) at the table: 409 table_in_use with openOrders. Close them or move them to another table first. An order, party or reservation that names the table once it is gone can still be replaced naming it (a closed order is not opened again there).',
  })
  async removeTable(@Param('locationId') locationId: string, @Param('tableId') tableId: string) {
    await this.deleteTable.execute(locationId, tableId);
  }

  @Put('bill-template')
  @ApiOperation({ summary: 'Replace the bill template (bill lines above and below the order)' })
  @ApiBody({ schema: { type: 'object', properties: { header: { type: 'array', items: ref('BillLine') }, footer: { type: 'array', items: ref('BillLine') } } } })
  putBillTemplate(@Param('locationId') locationId: string, @Body() body: unknown) {
    return this.putBill.execute(locationId, body);
  }

  @Delete('bill-template')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the bill template' })
  async removeBillTemplate(@Param('locationId') locationId: string) {
    await this.deleteBill.execute(locationId);
  }

  @Get('feed')
  @ApiOperation({ summary: "What happened on Dojo's side (payments, locks, Dojo-created/cancelled orders, payment-intent events), from a cursor" })
  @ApiQuery({ name: 'after', required: false, type: String, description: 'The cursor of the last entry read (or of the last page)' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  readFeed(@Param('locationId') locationId: string, @Query() query: unknown) {
    const q = parseQuery(FeedQuery, query);
    return this.feed.execute(locationId, q.after, q.limit);
  }
}
