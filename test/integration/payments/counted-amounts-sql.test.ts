import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Prisma } from '@app/db';
import { countedAmounts } from '@app/domain/core/rules';
import { COUNTED_PAID_SQL, COUNTED_TIPS_SQL } from '@app/domain/repositories/order-rules.sql';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase } from '@app/testing';

/**
 * The SQL of a payment's counted amounts (order-rules.sql.ts, used by
 * OrdersRepository.recomputePaid) evaluated by Postgres equals core/rules
 * countedAmounts over a grid of states, paid, tips and refunded amounts.
 */
describe('counted amounts: SQL equals the rule', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('counted');
  });
  after(async () => {
    await db?.drop();
  });

  it('for every state and every split of a refund between paid and tips', async () => {
    const cases: { state: string; paid: bigint; tips: bigint; refunded: bigint }[] = [];
    for (const state of ['Recorded', 'Refunded', 'Reversed', 'Canceled']) {
      for (const [paid, tips] of [[2000n, 0n], [2000n, 300n], [0n, 50n], [1n, 0n]] as const) {
        for (const refunded of [0n, 1n, paid - 1n, paid, paid + 1n, paid + tips - 1n, paid + tips, paid + tips + 500n]) {
          if (refunded >= 0n) cases.push({ state, paid, tips, refunded });
        }
      }
    }
    const rows = Prisma.join(cases.map((c, i) => Prisma.sql`(${i}::int, ${c.state}::"PaymentState", ${c.paid.toString()}::bigint, ${c.tips.toString()}::bigint, ${c.refunded.toString()}::bigint)`));
    const got = await db.prisma.$queryRaw<{ i: number; paid: bigint; tips: bigint }[]>`
      SELECT p.i, ${COUNTED_PAID_SQL}::bigint AS paid, ${COUNTED_TIPS_SQL}::bigint AS tips
        FROM (VALUES ${rows}) AS p(i, state, paid_amount, tips_amount, refunded_amount) ORDER BY p.i`;
    assert.equal(got.length, cases.length);
    for (const r of got) {
      const c = cases[r.i]!;
      assert.deepEqual({ paid: r.paid, tips: r.tips }, countedAmounts({ state: c.state, paidAmount: c.paid, tipsAmount: c.tips, refundedAmount: c.refunded }), JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    }
  });
});
