import type { PrismaClient, SecretBox } from '@app/db';
import { apiKeyAad } from '@app/db';
import type { DojoClient, DojoCredentials, PosEventBody } from '@app/dojo-client';
import { DojoApiError } from '@app/dojo-client';
import { deadLetterErrorText } from '../dead-letters/error-text';

export interface OutboxDispatchOptions {
  /** Rows claimed per pass. */
  batchSize?: number;
  /** How long a claimed row is reserved for the dispatcher that claimed it. */
  leaseMs?: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Failed deliveries before a POS event becomes a dead letter (OUTBOX_MAX_ATTEMPTS) [20]. */
  maxAttempts?: number;
}

export interface OutboxDeps {
  prisma: PrismaClient;
  secretBox: SecretBox;
  dojo: DojoClient;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

interface Claimed {
  id: bigint;
  location_id: string;
  event_type: string;
  entity_type: string;
  entity_id: string;
  payload: Record<string, unknown>;
  attempts: number;
  /** Newest pending row of the same entity when claimed: one send covers all rows up to it. */
  max_id: bigint;
}

/**
 * Delivers queued POS events (outbox_events) to Dojo's POST /epos/events.
 *
 * - In order per entity: only the oldest pending row of an entity is eligible,
 *   so a later change is never sent before an earlier one is through.
 * - POS events carry ids only (Dojo fetches the entity), so one successful send
 *   also settles the entity's other rows that were pending when it was claimed;
 *   rows written after the claim are sent again.
 * - Claiming pushes next_attempt_at ahead by a lease (FOR UPDATE SKIP LOCKED),
 *   so several dispatchers share the work and a crashed one's rows come back.
 * - Failures (Dojo down, 429, 5xx, bad key) are retried with exponential
 *   backoff, up to `maxAttempts` deliveries; then the row becomes a dead letter
 *   ('dead', with its last error and dead_at) and a warn line is logged. A
 *   request Dojo refuses as malformed (400/404/422) is dead at once: sending
 *   it again cannot help. An operator replays (back to 'pending', attempts 0)
 *   or discards it through /v1/dead-letters.
 * - A dead row blocks no one: other entities never wait for it, and neither do
 *   later events of its own entity. A POS event carries only the entity's id
 *   and Dojo fetches the entity's current state, so a later event of the same
 *   entity tells Dojo everything the dead one would have; holding it back
 *   would leave Dojo on a stale order/party/reservation until an operator acts.
 */
export class DispatchOutbox {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly d: OutboxDeps,
    private readonly opts: OutboxDispatchOptions,
  ) {
    this.batchSize = opts.batchSize ?? 50;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxAttempts = opts.maxAttempts ?? 20;
  }

  /** One pass; returns how many rows were sent. */
  async execute(): Promise<{ sent: number; failed: number; retried: number }> {
    const claimed = await this.claim();
    if (claimed.length === 0) return { sent: 0, failed: 0, retried: 0 };
    let failed = 0;
    let retried = 0;
    // One query for the credentials of every location in the batch, and one statement marking every delivered
    // row sent: a pass holds a pooled connection for 3 statements instead of 2 per row, so a burst of POS events
    // no longer starves the RPC handlers that share the pool (it made the request path's p99 several times higher).
    const creds = await this.credentials([...new Set(claimed.map((r) => r.location_id))]);
    const delivered: Claimed[] = [];
    await Promise.all(
      claimed.map(async (row) => {
        try {
          const c = creds.get(row.location_id);
          if (!c) {
            await this.d.prisma.outboxEvent.updateMany({ where: { id: row.id }, data: { state: 'failed', lastError: 'location is gone' } });
            failed++;
            return;
          }
          await this.d.dojo.sendPosEvent(c, this.body(row));
          delivered.push(row);
        } catch (err) {
          const refused = err instanceof DojoApiError && [400, 404, 422].includes(err.status);
          const message = deadLetterErrorText(err);
          const attempts = row.attempts + 1;
          const dead = refused || attempts >= this.maxAttempts;
          const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
          const jittered = Math.round(delay * (0.75 + Math.random() * 0.25));
          await this.d.prisma.outboxEvent.updateMany({
            where: { id: row.id, state: 'pending' },
            data: dead
              ? { state: 'dead', attempts, lastError: message, deadAt: new Date() }
              : { attempts, lastError: message, nextAttemptAt: new Date(Date.now() + jittered) },
          });
          if (dead) failed++;
          else retried++;
          const where = { locationId: row.location_id, outboxId: String(row.id), entity: `${row.entity_type} ${row.entity_id}`, attempts, refused, err: message };
          if (dead) this.d.log?.warn({ ...where, deadLetter: `pos-event:${row.id}` }, 'POS event is dead; replay or discard it through /v1/dead-letters');
          else this.d.log?.warn(where, 'POS event not delivered');
        }
      }),
    );
    if (delivered.length) await this.markSent(delivered);
    return { sent: delivered.length, failed, retried };
  }

  /** Marks each delivered head row and the rows of its entity that were pending when it was claimed (id <= max_id) sent. */
  private async markSent(rows: Claimed[]): Promise<void> {
    const heads = rows.map((r) => String(r.id));
    const locations = rows.map((r) => r.location_id);
    const types = rows.map((r) => r.entity_type);
    const entities = rows.map((r) => r.entity_id);
    const maxIds = rows.map((r) => String(r.max_id));
    await this.d.prisma.$executeRaw`
      UPDATE outbox_events o SET state = 'sent', sent_at = now(), attempts = o.attempts + CASE WHEN o.id = d.head THEN 1 ELSE 0 END
      FROM unnest(${heads}::bigint[], ${locations}::uuid[], ${types}::text[], ${entities}::text[], ${maxIds}::bigint[])
        AS d(head, location_id, entity_type, entity_id, max_id)
      WHERE o.location_id = d.location_id AND o.entity_type = d.entity_type AND o.entity_id = d.entity_id
        AND o.state = 'pending' AND o.id <= d.max_id`;
  }

  private body(row: Claimed): PosEventBody {
    const p = row.payload ?? {};
    switch (row.event_type) {
      case 'OrderUpdated':
        return { eventType: 'OrderUpdated', event: { orderId: idOf(p.orderId, row.entity_id) } };
      case 'PartyUpdated':
        return { eventType: 'PartyUpdated', event: { partyId: idOf(p.partyId, row.entity_id) } };
      default:
        return { eventType: 'ReservationUpdated', event: { reservationId: idOf(p.reservationId, row.entity_id) } };
    }
  }

  /** Credentials of the given locations, in one query; a location that is gone has no entry. */
  private async credentials(locationIds: string[]): Promise<Map<string, DojoCredentials>> {
    const rows = await this.d.prisma.$queryRaw<
      { id: string; api_key_ciphertext: Uint8Array; rest_url: string | null; reseller_id: string | null; sh_id: string; sh_reseller_id: string | null }[]
    >`
      SELECT l.id::text AS id, l.api_key_ciphertext, l.rest_url, l.reseller_id,
        s.dojo_software_house_id AS sh_id, s.reseller_id AS sh_reseller_id
      FROM locations l JOIN software_houses s ON s.id = l.software_house_id
      WHERE l.id = ANY(${locationIds}::uuid[])`;
    const out = new Map<string, DojoCredentials>();
    for (const loc of rows) {
      out.set(loc.id, {
        apiKey: this.d.secretBox.decrypt(loc.api_key_ciphertext, apiKeyAad(loc.id)),
        baseUrl: loc.rest_url,
        softwareHouseId: loc.sh_id,
        resellerId: loc.reseller_id ?? loc.sh_reseller_id,
      });
    }
    return out;
  }

  private claim(): Promise<Claimed[]> {
    const lease = `${this.leaseMs} milliseconds`;
    return this.d.prisma.$queryRaw<Claimed[]>`
      WITH heads AS (
        SELECT o.id FROM outbox_events o
        JOIN locations l ON l.id = o.location_id AND l.enabled
        WHERE o.state = 'pending' AND o.next_attempt_at <= now()
          AND NOT EXISTS (
            SELECT 1 FROM outbox_events p
            WHERE p.location_id = o.location_id AND p.entity_type = o.entity_type AND p.entity_id = o.entity_id
              AND p.state = 'pending' AND p.id < o.id)
        ORDER BY o.next_attempt_at, o.id
        LIMIT ${this.batchSize}
        FOR UPDATE OF o SKIP LOCKED
      )
      UPDATE outbox_events u SET next_attempt_at = now() + ${lease}::interval
      FROM heads WHERE u.id = heads.id
      RETURNING u.id, u.location_id, u.event_type, u.entity_type, u.entity_id, u.payload, u.attempts,
        (SELECT max(p.id) FROM outbox_events p
          WHERE p.location_id = u.location_id AND p.entity_type = u.entity_type AND p.entity_id = u.entity_id AND p.state = 'pending') AS max_id`;
  }
}

/** The entity id a POS event names: the payload's, else the outbox row's entity id. */
function idOf(fromPayload: unknown, entityId: string): string {
  return typeof fromPayload === 'string' || typeof fromPayload === 'number' ? String(fromPayload) : entityId;
}
