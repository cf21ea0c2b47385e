import { toJson } from '../../shared/venue-feed';
import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';
import { DEFAULT_INPUT_LIMITS } from '@app/contracts';
import { requireObject, requireSchema } from '../validation';

/** A bill line's svgImage (a logo, an image) is a whole SVG document: far longer than other text (the body's size bounds it). */
const BILL_TEMPLATE_LIMITS = { ...DEFAULT_INPUT_LIMITS, maxStringLength: 1_048_576 };

export interface BillTemplateInput {
  header?: unknown[];
  footer?: unknown[];
}

/** Replaces the bill template (BillLine[] above and below the order on printed bills). */
export class PutBillTemplate {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, body: unknown): Promise<{ header: unknown[]; footer: unknown[] }> {
    const b = requireObject(body, BILL_TEMPLATE_LIMITS) as BillTemplateInput;
    for (const part of ['header', 'footer'] as const) {
      const lines = b[part] ?? [];
      if (!Array.isArray(lines)) throw DomainError.invalid([{ field: part, reason: 'must be an array of bill lines' }]);
      lines.forEach((line, i) => requireSchema('BillLine', line, `${part}.${i}`));
    }
    const header = toJson(b.header ?? []);
    const footer = toJson(b.footer ?? []);
    await this.d.venue.transaction((s) => s.bills.saveTemplate(locationId, { header, footer }));
    return { header, footer };
  }
}
