/**
 * The one fixture builder for tests and benchmarks: software houses, locations
 * (with encrypted API keys and webhook secrets), areas, tables, orders and
 * payments, written through Prisma the way the app stores them (orders go
 * through the same mapper the venue API uses). Every row below a location is
 * scoped by its id; every builder returns the ids it wrote.
 *
 *   const fx = fixtures(db.prisma);
 *   const loc = await fx.location({ webhookSecrets: ['whsec_1'] });
 *   await fx.table(loc.id, { id: 'T1' });
 *   await fx.order(loc.id, { id: 'A-1', total: 5000, tableId: 'T1' });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Models } from '@app/contracts';
import { ALL_CAPABILITIES } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { apiKeyAad, SecretBox, webhookSecretAad } from '@app/db';
import { dojoOrderToCreateData } from '@app/domain';
import { TEST_ENCRYPTION_KEY } from './env';

/** Ids as the database stores them (uuid for rows the app creates, the POS's own id below a location). */
export type SoftwareHouseId = string;
export type LocationId = string;

export interface SoftwareHouseOptions {
  name?: string;
  /** Dojo's software house id; an existing one is reused (so repeated seeds can share one). */
  dojoId?: string;
  resellerId?: string | null;
}

export interface SoftwareHouseFixture {
  id: SoftwareHouseId;
  dojoSoftwareHouseId: string;
}

export type WebhookSecretOption = string | { value: string; state?: 'active' | 'retired' };

export interface LocationOptions {
  id?: LocationId;
  /** A new software house is created when left out. */
  softwareHouseId?: SoftwareHouseId;
  name?: string;
  dojoAccountId?: string;
  /** Plain API key; stored encrypted. Default: a random sk_sandbox_ key. */
  apiKey?: string;
  environment?: 'sandbox' | 'production';
  resellerId?: string | null;
  wsUrl?: string | null;
  enabled?: boolean;
  /** Default: every capability. */
  capabilities?: string[];
  /** Default: the schema's (pending). */
  registrationState?: 'pending' | 'registered' | 'failed' | 'not_required';
  /** Default: epos-data. */
  protocol?: 'epos-data' | 'dojo-tables' | 'connect-pat' | 'connect-pac';
  /** The protocol's settings (ProtocolSettingsOf in @app/contracts); default {}. */
  protocolSettings?: Record<string, string | boolean | number>;
  webhookSecrets?: WebhookSecretOption[];
}

export interface LocationFixture {
  id: LocationId;
  softwareHouseId: SoftwareHouseId;
  name: string;
  dojoAccountId: string;
  apiKey: string;
  webhookSecrets: Array<{ id: string; value: string; state: 'active' | 'retired' }>;
}

export interface AreaOptions {
  id?: string;
  name?: string;
  waiterIds?: string[];
}

export interface TableOptions {
  id?: string;
  name?: string;
  maxCovers?: number | null;
  areaId?: string | null;
  waiterIds?: string[];
}

export interface OrderOptions {
  id?: string;
  /** Total in minor units (GBP unless currency says otherwise). Default 5000. */
  total?: number;
  currency?: string;
  status?: Models.OrderStatus;
  payable?: boolean;
  tableId?: string;
  waiterId?: string;
  partyId?: string;
  /** A collection order instead of dine-in. */
  collection?: boolean;
  reference?: string;
  displayName?: string;
  /** Default: one line (2 × Burger with a Cheese modifier) adding up to about the total. */
  items?: Models.OrderItem[];
  /** Default: none. */
  discounts?: Models.Discount[];
  /** Minor units; default 0. */
  serviceCharge?: number;
}

export interface PaymentOptions {
  paymentIntentId?: string;
  amount?: number;
  currency?: string;
}

let seq = 0;
const tag = () => `${randomBytes(4).toString('hex')}${(++seq).toString(36)}`;

export class Fixtures {
  constructor(
    readonly prisma: PrismaClient,
    /** Encrypts API keys and webhook secrets; the key must be the one the apps under test are given. */
    readonly box: SecretBox,
  ) {}

  async softwareHouse(o: SoftwareHouseOptions = {}): Promise<SoftwareHouseFixture> {
    const dojoSoftwareHouseId = o.dojoId ?? `sh_${tag()}`;
    const sh = await this.prisma.softwareHouse.upsert({
      where: { dojoSoftwareHouseId },
      update: {},
      create: { name: o.name ?? `Software house ${dojoSoftwareHouseId}`, dojoSoftwareHouseId, resellerId: o.resellerId ?? null },
    });
    return { id: sh.id, dojoSoftwareHouseId };
  }

  /** One location (and a software house of its own unless softwareHouseId is given). */
  async location(o: LocationOptions = {}): Promise<LocationFixture> {
    const softwareHouseId = o.softwareHouseId ?? (await this.softwareHouse()).id;
    const { row, fixture, secrets } = this.locationRows(softwareHouseId, o);
    await this.prisma.location.create({ data: row });
    // One at a time, so created_at follows the given order (newest last).
    for (const s of secrets) await this.prisma.webhookSecret.create({ data: s });
    return fixture;
  }

  /**
   * Many locations in batches of createMany (benchmarks seed thousands): `each(i)`
   * gives the options of the i-th one; all share `softwareHouseId`.
   */
  async locations(count: number, softwareHouseId: SoftwareHouseId, each: (i: number) => Omit<LocationOptions, 'softwareHouseId'> = () => ({})): Promise<LocationFixture[]> {
    const out: LocationFixture[] = [];
    const batch = 500;
    for (let b = 0; b < count; b += batch) {
      const rows = Array.from({ length: Math.min(batch, count - b) }, (_, k) => this.locationRows(softwareHouseId, each(b + k)));
      await this.prisma.location.createMany({ data: rows.map((r) => r.row) });
      const secrets = rows.flatMap((r) => r.secrets);
      if (secrets.length) await this.prisma.webhookSecret.createMany({ data: secrets });
      out.push(...rows.map((r) => r.fixture));
    }
    return out;
  }

  async webhookSecret(locationId: LocationId, value: string, state: 'active' | 'retired' = 'active'): Promise<{ id: string }> {
    const id = randomUUID();
    await this.prisma.webhookSecret.create({ data: { id, locationId, secretCiphertext: this.box.encrypt(value, webhookSecretAad(id)), state } });
    return { id };
  }

  /** The API key as the app stores it (for tests that rotate a key by hand). */
  encryptApiKey(locationId: LocationId, apiKey: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.box.encrypt(apiKey, apiKeyAad(locationId)));
  }

  async area(locationId: LocationId, o: AreaOptions = {}): Promise<{ locationId: LocationId; id: string }> {
    const id = o.id ?? `A_${tag()}`;
    await this.prisma.area.create({ data: { locationId, id, name: o.name ?? `Area ${id}`, waiterIds: o.waiterIds ?? [] } });
    return { locationId, id };
  }

  async table(locationId: LocationId, o: TableOptions = {}): Promise<{ locationId: LocationId; id: string }> {
    const id = o.id ?? `T_${tag()}`;
    await this.prisma.diningTable.create({ data: this.tableRow(locationId, { ...o, id }) });
    return { locationId, id };
  }

  /** The same table (by id, default T1) at each location, in one statement. */
  async tables(locationIds: LocationId[], o: TableOptions = {}): Promise<void> {
    if (locationIds.length) await this.prisma.diningTable.createMany({ data: locationIds.map((l) => this.tableRow(l, { id: 'T1', ...o })) });
  }

  /** A POS order stored the way the venue API stores one (through the order mapper). */
  async order(locationId: LocationId, o: OrderOptions = {}): Promise<{ locationId: LocationId; id: string }> {
    const data = this.orderData(locationId, o);
    await this.prisma.order.create({ data: data.order });
    if (data.items.length) await this.prisma.orderItem.createMany({ data: data.items });
    return { locationId, id: data.order.id };
  }

  /** Many orders in one createMany per table (benchmarks). */
  async orders(specs: Array<{ locationId: LocationId } & OrderOptions>): Promise<void> {
    for (let b = 0; b < specs.length; b += 1000) {
      const data = specs.slice(b, b + 1000).map(({ locationId, ...o }) => this.orderData(locationId, o));
      await this.prisma.order.createMany({ data: data.map((d) => d.order) });
      const items = data.flatMap((d) => d.items);
      if (items.length) await this.prisma.orderItem.createMany({ data: items });
    }
  }

  /** A payment row as RecordOrderPayment leaves it (without recomputing the order). */
  async payment(locationId: LocationId, orderId: string, o: PaymentOptions = {}): Promise<{ paymentIntentId: string }> {
    const paymentIntentId = o.paymentIntentId ?? `pi_${tag()}`;
    await this.prisma.payment.create({ data: { locationId, orderId, paymentIntentId, currency: o.currency ?? 'GBP', paidAmount: BigInt(o.amount ?? 0) } });
    return { paymentIntentId };
  }

  private locationRows(softwareHouseId: SoftwareHouseId, o: LocationOptions) {
    const id = o.id ?? randomUUID();
    const apiKey = o.apiKey ?? `sk_sandbox_${randomBytes(16).toString('hex')}`;
    const dojoAccountId = o.dojoAccountId ?? `acc_${tag()}`;
    const name = o.name ?? `Venue ${dojoAccountId}`;
    const row = {
      id,
      softwareHouseId,
      name,
      dojoAccountId,
      apiKeyCiphertext: this.encryptApiKey(id, apiKey),
      apiKeyLast4: apiKey.slice(-4),
      environment: o.environment ?? 'sandbox',
      resellerId: o.resellerId ?? null,
      wsUrl: o.wsUrl ?? null,
      enabled: o.enabled ?? true,
      capabilities: o.capabilities ?? ALL_CAPABILITIES,
      registrationState: o.registrationState,
      protocol: o.protocol ?? 'epos-data',
      protocolSettings: o.protocolSettings ?? {},
    } as const;
    const webhookSecrets = (o.webhookSecrets ?? []).map((s) => {
      const { value, state = 'active' } = typeof s === 'string' ? { value: s } : s;
      return { id: randomUUID(), value, state };
    });
    const secrets = webhookSecrets.map((s) => ({ id: s.id, locationId: id, secretCiphertext: this.box.encrypt(s.value, webhookSecretAad(s.id)), state: s.state }));
    const fixture: LocationFixture = { id, softwareHouseId, name, dojoAccountId, apiKey, webhookSecrets };
    return { row: { ...row, capabilities: [...row.capabilities] }, fixture, secrets };
  }

  private tableRow(locationId: LocationId, o: TableOptions & { id: string }) {
    return { locationId, id: o.id, name: o.name ?? `Table ${o.id}`, maxCovers: o.maxCovers ?? null, areaId: o.areaId ?? null, waiterIds: o.waiterIds ?? [] };
  }

  private orderData(locationId: LocationId, o: OrderOptions) {
    const id = o.id ?? `ord_${tag()}`;
    const total = o.total ?? 5000;
    const currencyCode = o.currency ?? 'GBP';
    const money = (value: number): Models.Money => ({ value, currencyCode });
    const order: Models.Order = {
      id,
      status: o.status ?? 'Accepted',
      payable: o.payable,
      totalAmount: money(total),
      serviceChargeAmount: money(o.serviceCharge ?? 0),
      reference: o.reference ?? `R-${id}`,
      displayName: o.displayName ?? `Order ${id}`,
      items: o.items ?? [
        {
          name: 'Burger',
          plu: 'B1',
          quantity: 2,
          amountPerItem: money(Math.floor(total / 2)),
          modifiers: [{ name: 'Cheese', plu: 'M1', quantity: 1, amountPerModifier: money(0) }],
          subItems: [],
        },
      ],
      taxLines: [{ name: 'VAT', amountPercentage: 2000, amountTotal: money(Math.floor(total / 6)) }],
      discounts: o.discounts ?? [],
      details: o.collection
        ? { orderType: 'Collection', collection: { asap: true } }
        : { orderType: 'DineIn', dineIn: { tableId: o.tableId, waiterId: o.waiterId, partyId: o.partyId } },
    };
    const data = dojoOrderToCreateData(locationId, order, { id, origin: 'pos' });
    return { order: { ...data.order, id }, items: data.items };
  }
}

/** A fixture builder writing through `prisma`; secrets are encrypted with `box` (default: the key tests give the apps). */
export function fixtures(prisma: PrismaClient, box: SecretBox = new SecretBox(TEST_ENCRYPTION_KEY)): Fixtures {
  return new Fixtures(prisma, box);
}
