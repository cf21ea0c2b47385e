import { randomBytes, randomUUID } from 'node:crypto';
import { apiKeyAad, PrismaClient, SecretBox, webhookSecretAad } from '@app/db';
import { TEST_ENCRYPTION_KEY } from '@app/testing';
import type { DojoEventPayload } from '@app/contracts';

export const box = new SecretBox(TEST_ENCRYPTION_KEY);

export interface SeededLocation {
  locationId: string;
  accountId: string;
}

/** A software house and one location with the given webhook secrets (state per secret). */
export async function seedLocation(
  prisma: PrismaClient,
  secrets: Array<{ value: string; state?: 'active' | 'retired' }> = [],
): Promise<SeededLocation> {
  const sh = await prisma.softwareHouse.create({ data: { name: 'SH', dojoSoftwareHouseId: `sh_${randomBytes(4).toString('hex')}` } });
  const locationId = randomUUID();
  const accountId = `acc_${randomBytes(6).toString('hex')}`;
  await prisma.location.create({
    data: {
      id: locationId,
      softwareHouseId: sh.id,
      name: 'Venue',
      dojoAccountId: accountId,
      apiKeyCiphertext: box.encrypt('sk_sandbox_test', apiKeyAad(locationId)),
      apiKeyLast4: 'test',
      environment: 'sandbox',
    },
  });
  for (const s of secrets) {
    const id = randomUUID();
    await prisma.webhookSecret.create({
      data: { id, locationId, secretCiphertext: box.encrypt(s.value, webhookSecretAad(id)), state: s.state ?? 'active' },
    });
  }
  return { locationId, accountId };
}

export async function seedOrder(prisma: PrismaClient, locationId: string, id: string, total: number): Promise<void> {
  await prisma.order.create({ data: { locationId, id, orderType: 'DineIn', currency: 'GBP', totalAmount: BigInt(total) } });
}

/** Records a payment the way RecordOrderPayment leaves it (row + order recompute), without the RPC layer. */
export async function seedPayment(prisma: PrismaClient, locationId: string, orderId: string, paymentIntentId: string, amount: number): Promise<void> {
  await prisma.payment.create({ data: { locationId, orderId, paymentIntentId, currency: 'GBP', paidAmount: BigInt(amount) } });
}

export function eventPayload(accountId: string, id: string, event: string, paymentIntentId: string | undefined, status: string | undefined, createdAt: Date): DojoEventPayload {
  const data: DojoEventPayload['data'] = {};
  if (paymentIntentId) data.paymentIntentId = paymentIntentId;
  if (status) data.paymentStatus = status;
  data.captureMode = 'Auto';
  return { id, event, accountId, createdAt: createdAt.toISOString(), data };
}
