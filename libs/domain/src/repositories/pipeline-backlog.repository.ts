import type { PrismaClient } from '@app/db';

/** The Dojo events and POS outbox still on their way, across all locations (the worker's /metrics). */
export interface PipelineBacklogRow {
  eventsPending: { received: number; queued: number; pending_payment: number };
  eventsOldestPendingSeconds: number;
  outboxPending: number;
  outboxOldestPendingSeconds: number;
}

/**
 * Read-only counts over dojo_events and outbox_events for the worker's metrics.
 * Cross-location by design (a fleet-wide gauge), hence no location id.
 */
export class PipelineBacklogRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** One statement. Pending = not applied yet and not given up on; the age is that of events still on their way. */
  async readAllLocations(): Promise<PipelineBacklogRow> {
    const [row] = await this.prisma.$queryRaw<
      { er: bigint; eq: bigint; epp: bigint; eage: number | null; op: bigint; oage: number | null }[]
    >`SELECT
        (SELECT count(*) FROM dojo_events WHERE state = 'received') AS er,
        (SELECT count(*) FROM dojo_events WHERE state = 'queued') AS eq,
        (SELECT count(*) FROM dojo_events WHERE state = 'pending_payment') AS epp,
        (SELECT extract(epoch FROM now() - min(received_at))::float8 FROM dojo_events WHERE state IN ('received', 'queued')) AS eage,
        (SELECT count(*) FROM outbox_events WHERE state = 'pending') AS op,
        (SELECT extract(epoch FROM now() - min(created_at))::float8 FROM outbox_events WHERE state = 'pending') AS oage`;
    return {
      eventsPending: { received: Number(row!.er), queued: Number(row!.eq), pending_payment: Number(row!.epp) },
      eventsOldestPendingSeconds: Math.max(0, row!.eage ?? 0),
      outboxPending: Number(row!.op),
      outboxOldestPendingSeconds: Math.max(0, row!.oage ?? 0),
    };
  }
}
