import type { PrismaClient, SecretBox } from '@app/db';
import { apiKeyAad } from '@app/db';
import { ALL_CAPABILITIES } from '@app/contracts';
import { DemoVenueRepository } from '../repositories/demo-venue.repository';
import { ordersRepo } from '../repositories/orders.repository';
import { runInTransaction } from '../repositories/unit-of-work';
import { tablesRepo } from '../repositories/tables.repository';
import { dojoOrderToCreateData } from '../dialects/epos-data/orders.mapping';

/**
 * The demo software house and venue that `npm start` onboards against the
 * sandbox simulator, and that tests can use as realistic data: two areas, five
 * tables with waiters, and three open dine-in orders whose totals add up
 * (items + modifiers + sub-items - discounts + service charge; VAT included).
 */
export const DEMO = {
  softwareHouse: { name: 'Demo EPOS Ltd', dojoSoftwareHouseId: 'sh_demo_epos', resellerId: null as string | null },
  location: {
    name: 'The Demo Arms',
    dojoAccountId: 'acc_demo_0001',
    apiKey: 'sk_sandbox_demo_arms_0001_5f2c9e',
    currency: 'GBP',
  },
  /** The second demo venue (npm start): the same floor and orders, served over Dojo's legacy Tables API. */
  tablesLocation: {
    name: 'The Old Tables Inn',
    /** Also the Tables API account name (the Basic-auth user name). */
    dojoAccountId: 'acctables0001',
    apiKey: '3f6b1c2a-9d4e-4b7a-8c21-5e0f7a9d2b64',
  },
  /** The third demo venue (npm start): a counter on Paymentsense Connect pay at counter (protocol connect-pac). */
  counterLocation: {
    name: 'The Counter Cafe',
    dojoAccountId: 'acccounter0001',
    /** The Connect token (the sandbox account's key); sent as `token=` on /pac. */
    apiKey: 'pac-demo-counter-token-7d1e4b2c9a',
    hostAddress: 'democounter',
    installerId: 'demo-installer',
  },
  areas: [
    { id: 'area-bar', name: 'Bar', waiterIds: ['w-amy'] },
    { id: 'area-garden', name: 'Garden', waiterIds: ['w-ben', 'w-cat'] },
  ],
  tables: [
    { id: 'T1', name: 'Table 1', areaId: 'area-bar', maxCovers: 2, waiterIds: ['w-amy'] },
    { id: 'T2', name: 'Table 2', areaId: 'area-bar', maxCovers: 4, waiterIds: ['w-amy'] },
    { id: 'T3', name: 'Table 3', areaId: 'area-garden', maxCovers: 4, waiterIds: ['w-ben'] },
    { id: 'T4', name: 'Table 4', areaId: 'area-garden', maxCovers: 6, waiterIds: ['w-cat'] },
    { id: 'T5', name: 'Table 5', areaId: 'area-garden', maxCovers: 8, waiterIds: ['w-ben', 'w-cat'] },
  ],
} as const;

type Money = { value: number; currencyCode: string };
type Modifier = { name: string; plu: string; quantity: number; amountPerModifier: Money };
type SubItem = { name: string; plu: string; quantity: number; amountPerItem: Money; modifiers?: Modifier[] };
type Item = { name: string; plu: string; quantity: number; amountPerItem: Money; modifiers?: Modifier[]; subItems?: SubItem[]; note?: string };
type Discount = { name: string; amountTotal: Money; amountPercentage?: number; discountReference?: string };

const gbp = (value: number): Money => ({ value, currencyCode: 'GBP' });
const mod = (name: string, plu: string, pence: number, quantity = 1): Modifier => ({ name, plu, quantity, amountPerModifier: gbp(pence) });

/** Sum of one line: quantity x (unit price + its modifiers + its sub-items). */
export function lineTotal(item: Item | SubItem): number {
  const mods = (item.modifiers ?? []).reduce((s, m) => s + m.quantity * m.amountPerModifier.value, 0);
  const subs = ('subItems' in item ? (item.subItems ?? []) : []).reduce((s, si) => s + lineTotal(si), 0);
  return item.quantity * (item.amountPerItem.value + mods + subs);
}

export interface DemoOrderTotals {
  itemsTotal: number;
  discountTotal: number;
  serviceCharge: number;
  total: number;
  vatIncluded: number;
}

/** Service charge is 12.5% of the discounted subtotal; prices include 20% VAT. */
export function demoTotals(items: Item[], discounts: Discount[]): DemoOrderTotals {
  const itemsTotal = items.reduce((s, i) => s + lineTotal(i), 0);
  const discountTotal = discounts.reduce((s, d) => s + d.amountTotal.value, 0);
  const serviceCharge = Math.round(((itemsTotal - discountTotal) * 125) / 1000);
  const total = itemsTotal - discountTotal + serviceCharge;
  return { itemsTotal, discountTotal, serviceCharge, total, vatIncluded: Math.round(total / 6) };
}

export const DEMO_ORDERS: Array<{ id: string; reference: string; tableId: string; waiterId: string; items: Item[]; discounts: Discount[] }> = [
  {
    id: 'ord-demo-t1',
    reference: 'Table 1 #101',
    tableId: 'T1',
    waiterId: 'w-amy',
    items: [
      { name: 'Fish & Chips', plu: '1001', quantity: 1, amountPerItem: gbp(1450), modifiers: [mod('Mushy peas', '2001', 150)] },
      { name: 'Burger', plu: '1002', quantity: 1, amountPerItem: gbp(1395), modifiers: [mod('Extra cheese', '2002', 100), mod('No onion', '2003', 0)] },
      { name: 'Lager (pint)', plu: '3001', quantity: 2, amountPerItem: gbp(575) },
    ],
    discounts: [],
  },
  {
    id: 'ord-demo-t3',
    reference: 'Table 3 #102',
    tableId: 'T3',
    waiterId: 'w-ben',
    items: [
      {
        name: 'Sharing platter', plu: '1100', quantity: 1, amountPerItem: gbp(1800),
        subItems: [
          { name: 'Halloumi fries', plu: '1101', quantity: 1, amountPerItem: gbp(0) },
          { name: 'Chicken wings', plu: '1102', quantity: 1, amountPerItem: gbp(200), modifiers: [mod('Hot sauce', '2101', 50)] },
        ],
      },
      { name: 'Sparkling water', plu: '3100', quantity: 3, amountPerItem: gbp(250) },
    ],
    discounts: [{ name: 'Happy hour 10%', amountTotal: gbp(305), amountPercentage: 1000, discountReference: 'HH10' }],
  },
  {
    id: 'ord-demo-t5',
    reference: 'Table 5 #103',
    tableId: 'T5',
    waiterId: 'w-cat',
    items: [
      { name: 'Sunday roast', plu: '1200', quantity: 4, amountPerItem: gbp(1695), modifiers: [mod('Extra Yorkshire pudding', '2201', 150)] },
      { name: 'House red (bottle)', plu: '3200', quantity: 2, amountPerItem: gbp(2400) },
      { name: 'Sticky toffee pudding', plu: '1300', quantity: 2, amountPerItem: gbp(750), note: 'one without custard' },
    ],
    discounts: [{ name: 'Loyalty voucher', amountTotal: gbp(500), discountReference: 'LOYAL5' }],
  },
];

export interface SeedResult {
  softwareHouseId: string;
  locationId: string;
  apiKey: string;
  accountId: string;
}

/**
 * Creates (or refreshes) the demo software house, venue, areas, tables and open
 * orders. Idempotent: running it again resets the demo orders to unpaid.
 */
export async function seedDemoVenue(
  prisma: PrismaClient,
  box: SecretBox,
  opts: { wsUrl?: string; restUrl?: string; apiKey?: string; accountId?: string } = {},
): Promise<SeedResult> {
  const apiKey = opts.apiKey ?? DEMO.location.apiKey;
  const accountId = opts.accountId ?? DEMO.location.dojoAccountId;
  const demo = new DemoVenueRepository(prisma);
  const sh = { id: await demo.ensureSoftwareHouse(DEMO.softwareHouse.dojoSoftwareHouseId, DEMO.softwareHouse.name) };
  const existing = await demo.locationIdOfAccount(accountId);
  const locationId = existing ?? crypto.randomUUID();
  const locationData = {
    softwareHouseId: sh.id,
    name: DEMO.location.name,
    apiKeyCiphertext: box.encrypt(apiKey, apiKeyAad(locationId)),
    apiKeyLast4: apiKey.slice(-4),
    environment: apiKey.startsWith('sk_prod_') ? ('production' as const) : ('sandbox' as const),
    wsUrl: opts.wsUrl ?? null,
    restUrl: opts.restUrl ?? null,
    currency: DEMO.location.currency,
    enabled: true,
    capabilities: ALL_CAPABILITIES,
  };
  if (existing !== undefined) await demo.updateLocation(locationId, locationData);
  else await demo.createLocation(locationId, accountId, locationData);

  await seedDemoVenueData(prisma, locationId);
  return { softwareHouseId: sh.id, locationId, apiKey, accountId };
}

/**
 * Areas, tables, bill template and open orders of the demo venue, for a
 * location that already exists (e.g. one onboarded through the admin API).
 * Idempotent: the demo orders are reset to unpaid.
 */
export async function seedDemoVenueData(prisma: PrismaClient, locationId: string): Promise<void> {
  await runInTransaction(prisma, async (tx) => {
    for (const a of DEMO.areas) {
      await tablesRepo(tx).saveArea(locationId, a.id, { name: a.name, waiterIds: [...a.waiterIds] });
    }
    for (const t of DEMO.tables) {
      const data = { name: t.name, areaId: t.areaId, maxCovers: t.maxCovers, waiterIds: [...t.waiterIds] };
      await tablesRepo(tx).saveTable(locationId, t.id, data);
    }
    await new DemoVenueRepository(tx).ensureBillTemplate(
      locationId,
      [
        { lineType: 'MerchantName', merchantName: { name: DEMO.location.name } },
        { lineType: 'MerchantAddress', merchantAddress: { addressLines: ['1 High Street', 'London'], postcode: 'N1 1AA' } },
        { lineType: 'HorizontalLine', horizontalLine: { line: 'Single' } },
      ],
      [
        { lineType: 'HorizontalLine', horizontalLine: { line: 'Single' } },
        { lineType: 'Text', text: { value: 'Thank you for visiting!', size: 'Body', align: 'Center' } },
      ],
    );
    for (const o of DEMO_ORDERS) {
      const totals = demoTotals(o.items, o.discounts);
      // The same mapping the venue API uses for a POS's orders.
      const { order, items } = dojoOrderToCreateData(
        locationId,
        {
          reference: o.reference,
          displayName: o.reference,
          status: 'Accepted',
          details: { orderType: 'DineIn', dineIn: { tableId: o.tableId, waiterId: o.waiterId } },
          items: o.items,
          discounts: o.discounts,
          taxLines: [{ id: 'VAT', name: 'VAT 20% (included)', amountPercentage: 2000, amountTotal: gbp(totals.vatIncluded) }],
          serviceChargeAmount: gbp(totals.serviceCharge),
          totalAmount: gbp(totals.total),
          payable: true,
        },
        { id: o.id },
      );
      await ordersRepo(tx).replace(locationId, { order, items });
    }
  });
}
