import type { CounterEvent, CounterState, CounterTransactionView } from '@app/contracts';
import { DomainError } from '../../admin/errors';
import { counterRepo } from '../../repositories/counter.repository';
import type { CounterDeps } from '../ports';
import { requireCounterLink } from './start-counter-transaction.usecase';
import { counterEventOf, counterView, parseCounterCursor } from '../view';

/** ListCounterTransactions (venue API): newest first, by terminal and state. */
export class ListCounterTransactions {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, f: { tid?: string; state?: CounterState; limit: number }): Promise<{ items: CounterTransactionView[] }> {
    const rows = await counterRepo(this.d.prisma).list(locationId, f);
    return { items: rows.map(counterView) };
  }
}

/** GetCounterTransaction (venue API): one transaction (its receipt once finished) with its events; another venue's is not found. */
export class GetCounterTransaction {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, id: string): Promise<CounterTransactionView & { events: CounterEvent[] }> {
    const repo = counterRepo(this.d.prisma);
    const row = await repo.find(locationId, id);
    if (!row) throw DomainError.notFound('counter transaction', id);
    return { ...counterView(row), events: (await repo.eventsOf(locationId, id)).map(counterEventOf) };
  }
}

/**
 * ReadCounterEvents (the SSE stream): stored events after a cursor (the last
 * event id the POS saw), location-scoped, in commit-safe order (see
 * CounterRepository.eventsAfter). An id that is not a cursor is 400.
 */
export class ReadCounterEvents {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, after: string | undefined, limit: number): Promise<CounterEvent[]> {
    const cursor = after === undefined || after === '' ? { tx: 0n, id: 0n } : parseCounterCursor(after);
    if (!cursor) throw DomainError.invalid([{ field: 'Last-Event-ID', reason: 'is not an event id of this stream' }]);
    return (await counterRepo(this.d.prisma).eventsAfter(locationId, cursor, limit)).map(counterEventOf);
  }
}

/**
 * The cursor of the stream's newest readable point (a stream opened without
 * Last-Event-ID starts there); 404 counter_not_configured without a PAC link,
 * so a stream is never held open for a venue that can have no counter events.
 */
export class CounterStreamHead {
  constructor(private readonly d: CounterDeps) {}

  /** `cursor`: where the stream starts; `seen`: ids of events after it that were committed before it opened (not to send). */
  async execute(locationId: string): Promise<{ cursor: string; seen: Set<string> }> {
    await requireCounterLink(this.d, locationId);
    const h = await counterRepo(this.d.prisma).head(locationId);
    return { cursor: h.cursor ? `${h.cursor.tx}.${h.cursor.id}` : '0.0', seen: new Set(h.seen.map((e) => `${e.tx}.${e.id}`)) };
  }
}

/** The terminals as the venue API lists them. */
export interface CounterTerminalsView {
  /** When the owning gateway last read them (connectedTerminals); null when no fresh read is known. */
  observedAt: string | null;
  link: { state: string; since?: string; lastError?: string };
  terminals: { tid: string; status: string; currency?: string; location?: string }[];
}

/** How long `refresh` waits for the gateway's newer read. */
const REFRESH_WAIT_MS = 3_000;

/**
 * ListCounterTerminals (venue API): the terminals the owning gateway last
 * read (Redis, expiring), with the PAC link's state. `refresh` asks the
 * owner to read them now and waits up to 3 s for a newer read (else the last
 * one is answered). 404 counter_not_configured without a PAC link.
 */
export class ListCounterTerminals {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, refresh: boolean): Promise<CounterTerminalsView> {
    await requireCounterLink(this.d, locationId);
    let snap = await this.d.signals.terminals(locationId);
    if (refresh) {
      const before = snap?.observedAt ?? '';
      await this.d.signals.notifyGateways({ locationId, what: 'refresh_terminals' });
      const until = Date.now() + REFRESH_WAIT_MS;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        const next = await this.d.signals.terminals(locationId);
        if (next && next.observedAt > before) {
          snap = next;
          break;
        }
      }
    }
    const link = (await this.d.signals.linkState(locationId)) ?? { state: 'unowned' };
    return {
      observedAt: snap?.observedAt ?? null,
      link,
      terminals: (snap?.terminals ?? []).map((t) => ({ tid: t.tid, status: t.status, ...(t.currency ? { currency: t.currency } : {}), ...(t.location ? { location: t.location } : {}) })),
    };
  }
}
