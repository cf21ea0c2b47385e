import type { CounterTransactionView } from '@app/contracts';
import { counterView } from '../../counter/view';
import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { connectionsFor, toLocationView } from '../location-view';

/** A location's pay-at-counter part of its status: the PAC link (settings, token's last four, state), its terminals and the last 10 transactions. */
export interface CounterStatusView {
  link: { via: 'protocol' | 'link'; hostAddress: string; environment: string; installerId: string; signatureDefault: string; signatureWaitMs: number; tokenLast4: string; enabled: boolean; state: string; since?: string; lastError?: string };
  terminals: { observedAt: string | null; items: { tid: string; status: string; currency?: string; location?: string }[] };
  lastTransactions: CounterTransactionView[];
}

/** One location with its live connection state (and, with a PAC link, its counter status). */
export class GetLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView & { counter?: CounterStatusView }> {
    const row = await this.d.locations.get(id);
    if (!row) throw DomainError.notFound('location', id);
    const conns = await connectionsFor(this.d, [id]);
    const counter = await this.counterStatus(id);
    return { ...toLocationView(row, conns.get(id)), ...(counter ? { counter } : {}) };
  }

  private async counterStatus(id: string): Promise<CounterStatusView | undefined> {
    const c = this.d.counter;
    const link = await this.d.locations.counterLink(id);
    if (!c || !link) return undefined;
    // Redis may be down: the status still shows what Postgres knows.
    const [snap, state] = await Promise.all([c.status.terminals(id).catch(() => null), c.status.linkState(id).catch(() => null)]);
    const s = link.settings;
    return {
      link: {
        via: link.via, hostAddress: s.hostAddress, environment: s.environment, installerId: s.installerId, signatureDefault: s.signatureDefault,
        signatureWaitMs: s.signatureWaitMs, tokenLast4: link.tokenLast4, enabled: link.enabled, ...(state ?? { state: 'unknown' }),
      },
      terminals: {
        observedAt: snap?.observedAt ?? null,
        items: (snap?.terminals ?? []).map((t) => ({ tid: t.tid, status: t.status, ...(t.currency ? { currency: t.currency } : {}), ...(t.location ? { location: t.location } : {}) })),
      },
      lastTransactions: (await c.transactions.list(id, { limit: 10 })).map(counterView),
    };
  }
}
