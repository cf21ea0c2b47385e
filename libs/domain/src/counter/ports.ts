import type { Logger } from '@app/common';
import type { CounterCommandMessage, CounterEvent, CounterTerminalsSnapshot } from '@app/contracts';
import type { PrismaClient } from '@app/db';

/** A signature decision: the POS's answer or the venue's default. */
export interface SignatureDecision {
  accepted: boolean;
  by: 'pos' | 'default';
}

/**
 * What the counter use-cases need of Redis (adapter: libs/queue counter.ts
 * RedisCounterSignals). None of these throws: a publish that fails only
 * delays (the gateways poll, the SSE streams read Postgres).
 */
export interface CounterSignals {
  /**
   * Publishes stored events on CounterChannels.events(locationId), after their commit; how many listeners received
   * them as Redis counts them (on a Redis Cluster only the subscribers of one node: see `listening`).
   */
  publishEvents(locationId: string, events: readonly CounterEvent[]): Promise<number>;
  /** Whether a POS has the location's event stream open (counterListenersKey); false when Redis cannot say. */
  listening(locationId: string): Promise<boolean>;
  /** Tells the gateways that a location has counter work (CounterChannels.commands). */
  notifyGateways(msg: CounterCommandMessage): Promise<void>;
  /** Stores the decision unless one is stored (first writer wins); true when this one was stored. */
  decideSignature(transactionId: string, d: SignatureDecision): Promise<boolean>;
  /** The decision stored for the transaction, if any. */
  signatureDecision(transactionId: string): Promise<SignatureDecision | null>;
  /** The terminals the owning gateway last read (CounterTerminalsSnapshot), if any is fresh. */
  terminals(locationId: string): Promise<CounterTerminalsSnapshot | null>;
  /** The link's state as the owning gateway reports it. */
  linkState(locationId: string): Promise<{ state: string; since?: string; lastError?: string } | null>;
  /**
   * True once this process is stopping: a signature wait then ends with the venue's default (first writer wins)
   * instead of outliving the worker's shutdown, after which another worker would ask the POS again.
   */
  stopping?(): boolean;
}

/** What the counter use-cases receive. The client is only handed to runInTransaction and repositories. */
export interface CounterDeps {
  prisma: PrismaClient;
  signals: CounterSignals;
  log: Logger;
  /** How long an accepted command may wait for a gateway (COUNTER_ACCEPT_TTL_MS). */
  acceptTtlMs?: number;
}
