import { contractValidator, Models } from '@app/contracts';
import { orderToDojo } from '../../orders/order-mapper';
import { requireOrder } from '../../orders/order-for-change';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * GetOrderBillByIdV1: the order framed by the venue's bill template (header
 * and footer BillLines: merchant name, address, phone, email, tax number,
 * logo, text, QR url, horizontal lines). Without a template the header is the
 * location's name. Stored lines that do not fit the contract are left out
 * (and logged) rather than breaking the bill.
 */
export class GetOrderBillById implements UseCase<Models.OrderId, Models.OrderBill> {
  async execute(ctx: ExecContext, params: Models.OrderId): Promise<Models.OrderBill> {
    const order = await requireOrder(ctx, params.orderId);
    const template = await ctx.db.billTemplate.findUnique({ where: { locationId: ctx.locationId } });
    let header: Models.BillLine[];
    let footer: Models.BillLine[];
    if (template) {
      header = validLines(ctx, template.header, 'header');
      footer = validLines(ctx, template.footer, 'footer');
    } else {
      const loc = await ctx.db.location.findUnique({ where: { id: ctx.locationId }, select: { name: true } });
      header = loc ? [{ lineType: 'MerchantName', merchantName: { name: loc.name } } as Models.BillLine] : [];
      footer = [];
    }
    return { header: { lines: header }, order: orderToDojo(order), footer: { lines: footer } };
  }
}

function validLines(ctx: ExecContext, raw: unknown, section: string): Models.BillLine[] {
  if (!Array.isArray(raw)) return [];
  const v = contractValidator();
  const out: Models.BillLine[] = [];
  raw.forEach((line, i) => {
    const res = v.validateSchema('BillLine', line);
    if (res.ok) out.push(line as Models.BillLine);
    else ctx.log.warn({ section, index: i, field: res.field, reason: res.reason }, 'bill template line does not fit the contract; left out');
  });
  return out;
}
