/**
 * A second wire dialect maps onto the same commands, use-cases and rules with
 * only a mapping module and a method table of its own (docs/architecture.md,
 * "Commands and dialects"). The dialect here is made up for the test: a
 * Tables-API-like `LockTable` message becomes the core's LockOrder command run
 * by CreateOrderLock (the use-case EPOS Data's CreateOrderLockV1 uses), and
 * refusals of the core (DomainRefusal) become its own numeric codes, while
 * EPOS Data maps the same refusal to its errorType. No database: the
 * use-case is run on a plan read that found no order, and the dispatcher only
 * on paths that refuse before any statement.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import type { PrismaClient } from '@app/db';
import type { LockOrder } from '@app/domain/core/commands';
import { DomainRefusal } from '@app/domain/core/refusal';
import type { RefusalKind } from '@app/domain/core/refusal';
import { isValidLockExpiry } from '@app/domain/core/rules';
import { eposErrorOf } from '@app/domain/dialects/epos-data/errors';
import { EPOS_DATA_METHODS } from '@app/domain/dialects/epos-data/method-table';
import { CreateOrderLock } from '@app/domain/locks/usecases/create-order-lock.usecase';
import type { Dialect, ExecContext } from '@app/domain/rpc';
import { methodEntry, RpcDispatcher } from '@app/domain/rpc';

const now = new Date('2026-01-01T12:00:00.000Z');
const log = createLogger('t', 'silent');

// ---- the made-up dialect: its wire shapes, its mapping module, its method table, its errors and envelope ----

interface LockTableMessage {
  check: string;
  session: string;
  minutes: number;
}
interface TablesError {
  code: number;
  reason: string;
}
type TablesReply = { ok: true; ref: string; body: unknown } | { ok: false; ref: string; code: number; reason: string; trace: string };

const lockTable = {
  toCommand(m: LockTableMessage, at: Date): LockOrder {
    const expiresAt = new Date(at.getTime() + m.minutes * 60_000);
    // The rule is the core's; only the wording is the dialect's.
    if (!isValidLockExpiry(expiresAt, at)) throw DomainRefusal.invalid(`minutes must be positive, got ${m.minutes}`, 'minutes');
    return { orderId: m.check, lockRef: m.session, expiresAt, source: 'dojo-tables' };
  },
  toWire: (o: { id: string; status: string }) => ({ check: o.id, state: o.status }),
};

const TABLES_CODES: Record<RefusalKind, number> = { not_found: 404, conflict: 409, invalid: 422 };

const TABLES_TEST: Dialect<TablesReply, TablesError> = {
  name: 'tables-test',
  methods: { LockTable: methodEntry(lockTable, new CreateOrderLock()) },
  mutates: (method) => method === 'LockTable',
  refusal: (err) => (err instanceof DomainRefusal ? { code: TABLES_CODES[err.kind], reason: err.message } : undefined),
  unknownMethod: (method) => ({ code: 501, reason: `no ${method} here` }),
  idReused: (ref, stored) => ({ code: 409, reason: `${ref} was ${stored}` }),
  deadlinePassed: (method) => ({ code: 504, reason: `${method} timed out` }),
  unexpected: () => ({ code: 500, reason: 'unexpected' }),
  notApplied: (reason) => ({ code: 503, reason }),
  success: (ref, body) => ({ ok: true, ref, body }),
  failure: (ref, e, trace) => ({ ok: false, ref, code: e.code, reason: e.reason, trace }),
  describe: (e) => ({ code: e.code }),
};

/** A context whose plan read found no such order (the shape OrdersRepository.changePlan's read returns). */
function ctxWithoutOrder(): ExecContext {
  return {
    db: undefined as unknown as ExecContext['db'],
    locationId: '00000000-0000-0000-0000-000000000001',
    rpcId: 'r1',
    traceId: 't1',
    log,
    now,
    planned: { pre: { order: null, lock: null, payment: null, db_now: now.toISOString() } },
  };
}

describe('a second dialect on the same core', () => {
  it('maps LockTable to the LockOrder command and the use-case EPOS Data uses for CreateOrderLockV1', () => {
    const entry = TABLES_TEST.methods.LockTable!;
    const cmd = entry.toCommand({ check: 'o1', session: 'S1', minutes: 5 }, now) as LockOrder;
    assert.deepEqual(cmd, { orderId: 'o1', lockRef: 'S1', expiresAt: new Date('2026-01-01T12:05:00.000Z'), source: 'dojo-tables' });
    // The same use-case class and the same plan (advisory keys, order row lock) as EPOS Data's command for the same order.
    assert.ok(entry.useCase instanceof CreateOrderLock);
    assert.ok(EPOS_DATA_METHODS.CreateOrderLockV1.useCase instanceof CreateOrderLock);
    const eposCmd = EPOS_DATA_METHODS.CreateOrderLockV1.toCommand({ orderId: 'o1', lockId: 'S1', expiry: '2026-01-01T12:05:00.000Z' }, now) as LockOrder;
    assert.deepEqual({ ...eposCmd, source: 'dojo-tables' }, cmd);
    const plan = entry.useCase.plan('loc', cmd);
    const eposPlan = EPOS_DATA_METHODS.CreateOrderLockV1.useCase.plan('loc', eposCmd);
    assert.deepEqual(plan.advisoryKeys, eposPlan.advisoryKeys);
    assert.equal(plan.orderId, 'o1');
    assert.equal(plan.orderId, eposPlan.orderId);
  });

  it('maps the same refusal of the core to its own code, and EPOS Data to its errorType with the same text', async () => {
    const entry = TABLES_TEST.methods.LockTable!;
    const cmd = entry.toCommand({ check: 'o404', session: 'S1', minutes: 5 }, now);
    const refusal = await entry.useCase.execute(ctxWithoutOrder(), cmd).then(
      () => assert.fail('no order: refused'),
      (e: unknown) => e,
    );
    assert.ok(refusal instanceof DomainRefusal);
    assert.equal(refusal.kind, 'not_found');
    assert.deepEqual(TABLES_TEST.refusal(refusal), { code: 404, reason: 'order "o404" was not found at this location' });
    const epos = eposErrorOf(refusal)!;
    assert.equal(epos.errorType, 'NotFound');
    assert.equal(epos.debugMessage, 'order "o404" was not found at this location');

    // A refusal in the dialect's mapping (through a core rule) is mapped the same way.
    const invalid = (() => {
      try {
        entry.toCommand({ check: 'o1', session: 'S1', minutes: 0 }, now);
      } catch (e) {
        return e;
      }
      return assert.fail('minutes 0: refused');
    })();
    assert.deepEqual(TABLES_TEST.refusal(invalid), { code: 422, reason: 'minutes must be positive, got 0' });
    assert.equal((invalid as DomainRefusal).field, 'minutes');
    assert.equal(eposErrorOf(invalid)!.errorType, 'InvalidRequest');
    assert.equal(TABLES_TEST.refusal(new Error('boom')), undefined);
    assert.equal(eposErrorOf(new Error('boom')), undefined);
  });

  it('RpcDispatcher answers in the dialect it is given (its table, its codes, its envelope)', async () => {
    // Only paths that answer before any statement: the database client is never used.
    const dispatcher = new RpcDispatcher<TablesReply, TablesError>({
      prisma: undefined as unknown as PrismaClient,
      logger: log,
      dialect: TABLES_TEST,
      events: { ingest: () => Promise.reject(new Error('no events in this dialect')) },
    });
    const job = { locationId: '00000000-0000-0000-0000-000000000001', rpcId: 'r9', traceId: 'tr', deadline: Date.now() + 5_000, fence: 1, params: {} };
    // EPOS Data's method is not in this dialect's table.
    assert.deepEqual(await dispatcher.handle({ ...job, method: 'CreateOrderLockV1' }), {
      ok: false, ref: 'r9', code: 501, reason: 'no CreateOrderLockV1 here', trace: 'tr',
    });
  });
});
