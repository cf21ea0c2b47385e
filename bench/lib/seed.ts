import { randomUUID } from 'node:crypto';
import { ALL_CAPABILITIES } from '@app/contracts';
import { apiKeyAad, PrismaClient, SecretBox, webhookSecretAad } from '@app/db';

export interface BenchLocation {
  locationId: string;
  accountId: string;
  apiKey: string;
  webhookSecret?: string;
}

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

/** The software house every bench location belongs to. */
async function softwareHouseId(prisma: PrismaClient): Promise<string> {
  const sh = await prisma.softwareHouse.upsert({
    where: { dojoSoftwareHouseId: 'sh_bench' },
    update: {},
    create: { name: 'Bench software house', dojoSoftwareHouseId: 'sh_bench' },
  });
  return sh.id;
}

/**
 * Many locations cheaply: one software house, `count` locations with encrypted
 * keys and every capability, each with a table and `ordersPerLocation` payable
 * orders of 10,000,000 minor units (payments of 100 rarely exhaust them).
 * Rows go in with createMany in batches.
 */
export async function seedLocations(prisma: PrismaClient, box: SecretBox, o: SeedOptions): Promise<BenchLocation[]> {
  const shId = await softwareHouseId(prisma);
  const from = o.from ?? 0;
  const out: BenchLocation[] = [];
  for (let i = from; i < from + o.count; i++) {
    out.push({ locationId: randomUUID(), accountId: `${o.prefix}_${i}`, apiKey: `sk_sandbox_${o.prefix}_${i}` });
  }
  const batch = 500;
  for (let b = 0; b < out.length; b += batch) {
    const part = out.slice(b, b + batch);
    await prisma.location.createMany({
      data: part.map((l) => ({
        id: l.locationId,
        softwareHouseId: shId,
        name: `Bench venue ${l.accountId}`,
        dojoAccountId: l.accountId,
        apiKeyCiphertext: box.encrypt(l.apiKey, apiKeyAad(l.locationId)),
        apiKeyLast4: l.apiKey.slice(-4),
        environment: 'sandbox' as const,
        currency: 'GBP',
        enabled: true,
        capabilities: ALL_CAPABILITIES,
        registrationState: 'registered' as const,
      })),
    });
    await prisma.diningTable.createMany({ data: part.map((l) => ({ locationId: l.locationId, id: 'T1', name: 'Table 1', maxCovers: 4, waiterIds: [] })) });
    if (o.ordersPerLocation > 0) {
      const orders = part.flatMap((l) =>
        Array.from({ length: o.ordersPerLocation }, (_, k) => ({
          locationId: l.locationId,
          id: `ord_${k}`,
          reference: `B${k}`,
          displayName: `Bench order ${k}`,
          status: 'Accepted' as const,
          orderType: 'DineIn' as const,
          tableId: 'T1',
          currency: 'GBP',
          totalAmount: BigInt(ORDER_TOTAL),
          payable: true,
        })),
      );
      await prisma.order.createMany({ data: orders });
      await prisma.orderItem.createMany({
        data: orders.map((ord) => ({ locationId: ord.locationId, orderId: ord.id, position: 0, name: 'Tasting menu', plu: 'TM1', quantity: 1, amountPerItem: BigInt(ORDER_TOTAL) })),
      });
    }
    if (o.webhookSecrets) {
      const secrets = part.map((l) => {
        const id = randomUUID();
        l.webhookSecret = `whsec_bench_${l.accountId}_${randomUUID().slice(0, 8)}`;
        return { id, locationId: l.locationId, secretCiphertext: box.encrypt(l.webhookSecret, webhookSecretAad(id)), state: 'active' as const };
      });
      await prisma.webhookSecret.createMany({ data: secrets });
    }
  }
  return out;
}
