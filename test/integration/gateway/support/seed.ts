import { randomUUID } from 'node:crypto';
import { apiKeyAad, PrismaClient, SecretBox } from '@app/db';
import { TEST_ENCRYPTION_KEY } from '@app/testing';

const box = new SecretBox(TEST_ENCRYPTION_KEY);

export async function insertSoftwareHouse(prisma: PrismaClient, opts: { dojoId?: string; resellerId?: string } = {}) {
  return prisma.softwareHouse.create({
    data: { name: 'Test EPOS Ltd', dojoSoftwareHouseId: opts.dojoId ?? `sh-${randomUUID().slice(0, 8)}`, resellerId: opts.resellerId ?? null },
  });
}

export interface SeedLocation {
  softwareHouseId: string;
  apiKey?: string;
  resellerId?: string | null;
  wsUrl?: string | null;
  enabled?: boolean;
  capabilities?: string[];
}

export async function insertLocation(prisma: PrismaClient, opts: SeedLocation) {
  const id = randomUUID();
  const apiKey = opts.apiKey ?? `sk_sandbox_${randomUUID().replace(/-/g, '')}`;
  const loc = await prisma.location.create({
    data: {
      id,
      softwareHouseId: opts.softwareHouseId,
      name: `Venue ${id.slice(0, 6)}`,
      dojoAccountId: `acc-${id}`,
      apiKeyCiphertext: new Uint8Array(box.encrypt(apiKey, apiKeyAad(id))),
      apiKeyLast4: apiKey.slice(-4),
      environment: 'sandbox',
      resellerId: opts.resellerId ?? null,
      wsUrl: opts.wsUrl ?? null,
      enabled: opts.enabled ?? true,
      capabilities: opts.capabilities ?? ['SearchOrders', 'GetOrderById', 'RecordOrderPayment', 'CreateOrderLock'],
    },
  });
  return { ...loc, apiKey };
}

export function encryptKey(locationId: string, apiKey: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(box.encrypt(apiKey, apiKeyAad(locationId)));
}
