import { DomainError } from '../../admin/errors';
import { outstandingAmount } from '../../core/rules';
import type { VenueDeps } from '../ports';

/** An order's money as the venue API shows it: minor units, with its payments (every state). */
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
  payments: { paymentIntentId: string; paidAmount: number; tipsAmount: number; state: string; intentStatus: string | null }[];
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
      payments: o.payments.map((p) => ({
        paymentIntentId: p.paymentIntentId,
        paidAmount: Number(p.paidAmount),
        tipsAmount: Number(p.tipsAmount),
        state: p.state,
        intentStatus: p.intentStatus,
      })),
    };
  }
}
