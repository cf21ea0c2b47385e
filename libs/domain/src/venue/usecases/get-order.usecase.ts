import { DomainError } from '../../admin/errors';
import { countedAmounts, outstandingAmount } from '../../core/rules';
import type { VenueDeps } from '../ports';

/**
 * An order's money as the venue API shows it: minor units, with its payments
 * (every state). A payment's paidAmount and tipsAmount are what it counts
 * towards the order (core/rules countedAmounts: net of its refunds, 0 once
 * undone), so a Recorded payment's amounts add up to the order's; capturedAmount
 * and capturedTipsAmount are what was taken, refundedAmount what was refunded of it.
 */
export interface VenueOrderView {
  id: string;
  status: string;
  currency: string;
  totalAmount: number;
  paidAmount: number;
  tipsAmount: number;
  outstandingAmount: number;
  payable: boolean;
  version: number;
  payments: {
    paymentIntentId: string;
    paidAmount: number;
    tipsAmount: number;
    capturedAmount: number;
    capturedTipsAmount: number;
    refundedAmount: number;
    state: string;
    intentStatus: string | null;
  }[];
}

/** GetVenueOrder: the order's totals, payable flag and payments (what card machines and online payments did to it). */
export class GetVenueOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string): Promise<VenueOrderView> {
    const o = await this.d.venue.orders.find(locationId, orderId);
    if (!o) throw DomainError.notFound('order', orderId);
    return {
      id: o.id,
      status: o.status,
      currency: o.currency,
      totalAmount: Number(o.totalAmount),
      paidAmount: Number(o.paidAmount),
      tipsAmount: Number(o.tipsAmount),
      outstandingAmount: Number(outstandingAmount(o)),
      payable: o.payable,
      version: o.version,
      payments: o.payments.map((p) => {
        const counted = countedAmounts(p);
        return {
          paymentIntentId: p.paymentIntentId,
          paidAmount: Number(counted.paid),
          tipsAmount: Number(counted.tips),
          capturedAmount: Number(p.paidAmount),
          capturedTipsAmount: Number(p.tipsAmount),
          refundedAmount: Number(p.refundedAmount),
          state: p.state,
          intentStatus: p.intentStatus,
        };
      }),
    };
  }
}
