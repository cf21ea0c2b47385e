import { randomBytes } from 'node:crypto';

export const OPERATOR_TOKEN = 'op-token-0123456789abcdef';

export function sandboxKey(): string {
  return `sk_sandbox_${randomBytes(12).toString('hex')}`;
}

export interface Api {
  (method: string, path: string, opts?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
}

/** A tiny JSON client for the admin app. */
export function apiClient(baseUrl: string, defaultToken = OPERATOR_TOKEN): Api {
  return async (method, path, opts = {}) => {
    const token = opts.token === undefined ? defaultToken : opts.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export function sampleOrder(id: string, total = 2500) {
  return {
    id,
    status: 'Accepted',
    details: { orderType: 'DineIn', dineIn: { tableId: 't1', waiterId: 'w1' } },
    items: [
      {
        name: 'Burger',
        plu: 'B1',
        quantity: 2,
        amountPerItem: { value: 1000, currencyCode: 'GBP' },
        modifiers: [{ name: 'Cheese', plu: 'M1', quantity: 1, amountPerModifier: { value: 100, currencyCode: 'GBP' } }],
        subItems: [{ name: 'Fries', plu: 'F1', quantity: 1, amountPerItem: { value: 0, currencyCode: 'GBP' } }],
      },
    ],
    discounts: [{ name: 'Happy hour', amountTotal: { value: 100, currencyCode: 'GBP' } }],
    taxLines: [{ name: 'VAT', amountPercentage: 2000, amountTotal: { value: 400, currencyCode: 'GBP' } }],
    serviceChargeAmount: { value: 300, currencyCode: 'GBP' },
    totalAmount: { value: total, currencyCode: 'GBP' },
    payable: true,
    displayName: 'Table 1',
  };
}
