import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contractValidator } from '@app/contracts';
import { apiKeyAad, SecretBox } from '@app/db';
import { DEMO, DEMO_ORDERS, demoTotals, lineTotal, seedDemoVenue } from '@app/domain';
import { ORDER_INCLUDE, orderToDojo } from '@app/domain/orders/order-mapper';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '@app/testing';

describe('demo venue seed', () => {
  let db: TestDatabase;
  const box = new SecretBox(TEST_ENCRYPTION_KEY);
  before(async () => (db = await createTestDatabase('seed')));
  after(async () => db.drop());

  it('computes line totals from quantity, price, modifiers and sub-items', () => {
    assert.equal(lineTotal({ name: 'x', plu: '1', quantity: 2, amountPerItem: { value: 100, currencyCode: 'GBP' },
      modifiers: [{ name: 'm', plu: '2', quantity: 2, amountPerModifier: { value: 10, currencyCode: 'GBP' } }] }), 240);
    // Sharing platter: 1800 + halloumi 0 + wings (200 + 50) = 2050
    assert.equal(lineTotal(DEMO_ORDERS[1]!.items[0]!), 2050);
  });

  it('creates the venue, areas, tables and orders whose totals add up, and is idempotent', async () => {
    const first = await seedDemoVenue(db.prisma, box);
    const again = await seedDemoVenue(db.prisma, box);
    assert.equal(again.locationId, first.locationId);
    const loc = await db.prisma.location.findUniqueOrThrow({ where: { id: first.locationId } });
    assert.equal(loc.environment, 'sandbox');
    assert.equal(box.decrypt(loc.apiKeyCiphertext, apiKeyAad(loc.id)), DEMO.location.apiKey);
    assert.equal(await db.prisma.area.count({ where: { locationId: loc.id } }), DEMO.areas.length);
    assert.equal(await db.prisma.diningTable.count({ where: { locationId: loc.id } }), DEMO.tables.length);
    const orders = await db.prisma.order.findMany({ where: { locationId: loc.id }, include: { items: true }, orderBy: { id: 'asc' } });
    assert.equal(orders.length, DEMO_ORDERS.length);
    for (const o of orders) {
      const src = DEMO_ORDERS.find((d) => d.id === o.id)!;
      const t = demoTotals(src.items, src.discounts);
      const items = o.items.reduce((s, i) => s + lineTotal({ ...i, quantity: i.quantity, amountPerItem: { value: Number(i.amountPerItem), currencyCode: 'GBP' }, modifiers: i.modifiers as never, subItems: i.subItems as never }), 0);
      const discounts = (o.discounts as Array<{ amountTotal: { value: number } }>).reduce((s, d) => s + d.amountTotal.value, 0);
      assert.equal(items, t.itemsTotal, `${o.id} items`);
      assert.equal(Number(o.totalAmount), items - discounts + Number(o.serviceChargeAmount), `${o.id} total = items - discounts + service`);
      assert.equal(o.payable, true);
      assert.equal(o.paidAmount, 0n);
    }
    // As Dojo sees them: contract-valid, payable, with the totals above.
    const v0 = contractValidator();
    for (const row of await db.prisma.order.findMany({ where: { locationId: loc.id }, include: ORDER_INCLUDE })) {
      const o = orderToDojo(row);
      assert.deepEqual(v0.validateSchema('Order', o), { ok: true }, JSON.stringify(o));
      assert.equal(o.totalAmount?.value, Number(row.totalAmount));
      assert.equal(o.paidAmount?.value, 0);
      assert.equal(o.payable, true);
    }
    const tpl = await db.prisma.billTemplate.findUniqueOrThrow({ where: { locationId: loc.id } });
    const v = contractValidator();
    for (const line of [...(tpl.header as unknown[]), ...(tpl.footer as unknown[])]) {
      assert.deepEqual(v.validateSchema('BillLine', line), { ok: true }, JSON.stringify(line));
    }
  });
});
