import type { Fixtures, LocationFixture } from '@app/testing';

export interface SeedOptions {
  /** Index of the first location (keys and ids continue a previous seed). */
  from?: number;
  count: number;
  /** Account id / key prefix, matching DojoSandbox.addAccounts({ prefix }). */
  prefix: string;
  ordersPerLocation: number;
  /** Give each location an active webhook secret. */
  webhookSecrets?: boolean;
}

export const ORDER_TOTAL = 10_000_000;
export const PAYMENT_AMOUNT = 100;

/**
 * Many venues cheaply, through the fixture builder's batched writes: one
 * software house (sh_bench, as the sandbox's accounts say), `count` registered
 * locations named like the sandbox's accounts (`<prefix>_<i>`, key
 * `sk_sandbox_<prefix>_<i>`) with every capability, each with a table T1 and
 * `ordersPerLocation` payable orders of 10,000,000 minor units (payments of 100
 * rarely exhaust them).
 */
export async function benchVenues(fx: Fixtures, o: SeedOptions): Promise<LocationFixture[]> {
  const sh = await fx.softwareHouse({ dojoId: 'sh_bench', name: 'Bench software house' });
  const from = o.from ?? 0;
  const locs = await fx.locations(o.count, sh.id, (k) => {
    const accountId = `${o.prefix}_${from + k}`;
    return {
      dojoAccountId: accountId,
      name: `Bench venue ${accountId}`,
      apiKey: `sk_sandbox_${accountId}`,
      registrationState: 'registered',
      webhookSecrets: o.webhookSecrets ? [`whsec_bench_${accountId}_${Math.random().toString(36).slice(2, 10)}`] : [],
    };
  });
  await fx.tables(locs.map((l) => l.id), { id: 'T1', name: 'Table 1', maxCovers: 4 });
  await fx.orders(
    locs.flatMap((l) =>
      Array.from({ length: o.ordersPerLocation }, (_, k) => ({
        locationId: l.id,
        id: `ord_${k}`,
        reference: `B${k}`,
        displayName: `Bench order ${k}`,
        status: 'Accepted' as const,
        tableId: 'T1',
        payable: true,
        total: ORDER_TOTAL,
        items: [{ name: 'Tasting menu', plu: 'TM1', quantity: 1, amountPerItem: { value: ORDER_TOTAL, currencyCode: 'GBP' } }],
      })),
    ),
  );
  return locs;
}
