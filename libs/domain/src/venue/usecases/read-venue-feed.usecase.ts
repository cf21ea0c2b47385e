import { DomainError } from '../../admin/errors';
import { parseTxIdCursor } from '../../shared/int8';
import type { VenueDeps } from '../ports';

export interface FeedEntryView {
  cursor: string;
  kind: string;
  entityType: string;
  entityId: string;
  data: unknown;
  createdAt: string;
}

export interface FeedPage {
  entries: FeedEntryView[];
  /** Pass back as `after` to continue; unchanged when nothing new is readable yet. */
  cursor: string;
}

const START = '0.0';

/** `after` as (tx_id, id): both BIGINTs, so a number past 2^63-1 is refused like any other string the feed never handed out. */
function parseCursor(c: string | undefined): [bigint, bigint] {
  if (!c) return [0n, 0n];
  const cursor = parseTxIdCursor(c);
  if (!cursor) throw DomainError.invalid([{ field: 'after', reason: 'is not a cursor this feed handed out' }]);
  return [cursor.tx, cursor.id];
}

/**
 * Reads the venue feed from a cursor.
 *
 * Why not just "id > cursor": bigserial ids are taken at INSERT time but become
 * visible at COMMIT time, so a transaction holding id 9 can commit after one
 * holding id 10. A reader that saw 10 and moved its cursor past it would never
 * see 9. Instead every entry records the full 64-bit id of the transaction that
 * wrote it (tx_id, a column default of pg_current_xact_id()), and the feed is
 * ordered by (tx_id, id) and only handed out below pg_snapshot_xmin of the
 * reading snapshot: every transaction with a smaller id has finished (committed
 * or rolled back), and every transaction still running or yet to write gets an
 * id at or above it. So the part of the order that is handed out never grows
 * in the middle: a POS reading from its last cursor misses nothing and sees
 * nothing twice. The price is a delay while some older transaction in the
 * cluster is still open (entries appear once it ends); no fixed time lag is
 * guessed, so a slow commit can never be skipped.
 */
export class ReadVenueFeed {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, after: string | undefined, limit: number): Promise<FeedPage> {
    const [tx, id] = parseCursor(after);
    const { expired, rows } = await this.d.venue.feed.readAfter(locationId, { tx, id }, limit);
    if (expired) {
      throw new DomainError(
        'gone',
        `entries after cursor ${after} were deleted by retention; ` +
          're-read the orders and payments this feed reports, then read the feed again without `after`',
        [],
        { error: 'cursor_expired' },
      );
    }
    const entries = rows.map((r) => ({
      cursor: `${r.tx_id}.${r.id}`,
      kind: r.kind,
      entityType: r.entity_type,
      entityId: r.entity_id,
      data: r.data,
      createdAt: r.created_at.toISOString(),
    }));
    return { entries, cursor: entries.length ? entries[entries.length - 1]!.cursor : after ?? START };
  }
}
