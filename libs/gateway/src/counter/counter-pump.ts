import { randomUUID } from 'node:crypto';
import type {
  CounterCommandMessage,
  CounterCommandPort,
  CounterOutcome,
  CounterRecover,
  CounterSend,
  CounterSettleJob,
  CounterTerminalsSnapshot,
  CounterWork,
} from '@app/contracts';
import { ConnectPac, newTraceId } from '@app/contracts';
import type { Logger } from '@app/common';
import type { DecodedReply } from '../profiles/connection-profile';

/** Where settle jobs go (BullMQ's counter queue in production: @app/queue BullmqCounterSettler). */
export interface SettleQueue {
  /** Enqueues the job; a second enqueue of the same outcome is harmless (job id from the transaction id). Throws when it could not. */
  settle(job: CounterSettleJob): Promise<void>;
}

/** Where the terminals snapshot goes (Redis counterTerminalsKey in production). */
export interface TerminalsStore {
  write(snapshot: CounterTerminalsSnapshot): Promise<void>;
}

/** One open socket of a location's PAC link, as the pump sees it. */
export interface PacSocket {
  /** The owner's fencing token (the location's lease). */
  readonly fence: number;
  /** Writes a frame on this socket if it is still open and the fence still holds; false when it was not sent. */
  send(text: string): Promise<boolean>;
}

export interface CounterPumpOptions {
  replicaId: string;
  /** COUNTER_POLL_MS: takeWork this often per location even without a command message. */
  pollMs: number;
  /** COUNTER_REPLY_TIMEOUT_MS: a transaction without a reply this long is dropped from inFlight (and recovered). */
  replyTimeoutMs: number;
  /** COUNTER_RECOVER_GIVE_UP_MS: a recovery that has not read the terminal's last transaction this long settles `unknown`. */
  recoverGiveUpMs: number;
  /** COUNTER_TERMINALS_REFRESH_MS: connectedTerminals this often. */
  terminalsRefreshMs: number;
  /** How long our own requests (connectedTerminals, cancelTransaction, duplicate) wait for their reply [10 s]. */
  requestTimeoutMs?: number;
}

export interface CounterPumpDeps {
  port: CounterCommandPort;
  settler: SettleQueue;
  terminals: TerminalsStore;
  logger: Logger;
}

type Reply = { result: unknown } | { error: { code: number; message: string } };

/** Settle enqueue retries before the outcome is left to recovery (`duplicate`). */
const SETTLE_ATTEMPTS = 5;
const SETTLE_RETRY_MS = 200;

/**
 * Drives the counter terminals of the locations whose PAC link this replica
 * holds open: one session per open socket, its work serialised. It takes work
 * from the domain (CounterCommandPort.takeWork, each item claimed with the
 * fence), writes the requests, matches Connect's replies by id (in any order),
 * turns each final reply into a CounterOutcome for the settle queue, recovers
 * transactions whose reply is lost with `duplicate`, and keeps the terminals
 * snapshot fresh. Nothing here decides a transaction's state: the worker
 * settles each once; what this replica forgets (a crash, a dropped socket) is
 * found again by the next owner's takeWork as `recover`.
 */
export class CounterPump {
  private readonly sessions = new Map<string, CounterSession>();
  private stopped = false;
  private draining = false;

  constructor(
    private readonly opts: CounterPumpOptions,
    private readonly deps: CounterPumpDeps,
  ) {}

  /** A PAC socket opened for the location: start pumping on it (a previous session of the location ends). */
  attach(locationId: string, socket: PacSocket): void {
    if (this.stopped || this.draining) return;
    this.sessions.get(locationId)?.close('replaced by a new socket');
    const s = new CounterSession(locationId, socket, this.opts, this.deps);
    this.sessions.set(locationId, s);
    s.start();
  }

  /** The socket is gone: its in-flight transactions will get no reply (the next takeWork returns them as `recover`). */
  detach(locationId: string, socket: PacSocket): void {
    const s = this.sessions.get(locationId);
    if (!s || s.socket !== socket) return;
    s.close('socket closed');
    this.sessions.delete(locationId);
  }

  /** A reply from Connect on `socket`. */
  onReply(locationId: string, socket: PacSocket, reply: DecodedReply): void {
    const s = this.sessions.get(locationId);
    if (!s || s.socket !== socket) {
      this.deps.logger.warn({ locationId, rpcId: reply.id }, 'PAC reply on a socket no longer pumped: dropped (the transaction is recovered)');
      return;
    }
    s.onReply(reply);
  }

  /** A message on CounterChannels.commands (every replica hears it; only a replica pumping the location acts). */
  onCommand(msg: CounterCommandMessage): void {
    const s = this.sessions.get(msg.locationId);
    if (!s) return;
    if (msg.what === 'refresh_terminals') s.refreshTerminals();
    else s.kick();
  }

  /** For tests and the status: the transactions this replica waits a reply for, per location. */
  inFlight(locationId: string): string[] {
    return this.sessions.get(locationId)?.inFlightIds() ?? [];
  }

  /** Waits until the location's pending takeWork round (if any) has finished. */
  async idle(locationId: string): Promise<void> {
    await this.sessions.get(locationId)?.idle();
  }

  /**
   * The gateway is stopping: no new work is taken (no takeWork round starts, no new socket is pumped), while the
   * sessions go on settling the replies to what is in flight until their sockets close (detach) or stop().
   */
  drain(): void {
    this.draining = true;
    for (const s of this.sessions.values()) s.drain();
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sessions.values()) s.close('gateway stopping');
    this.sessions.clear();
  }
}

interface InFlight {
  kind: ConnectPac.PacTransactionMethod;
  tid: string;
  timer: NodeJS.Timeout;
}

/** The pump of one location on one socket. */
class CounterSession {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly recovering = new Set<string>();
  /**
   * Outcomes queued and not yet settled by a worker, as far as this replica knows: still reported as in flight to
   * takeWork (for at most the reply timeout), so the transaction, still `sent` until the worker settles it, is not
   * handed out again as `recover` meanwhile.
   */
  private readonly settling = new Map<string, NodeJS.Timeout>();
  private readonly requests = new Map<string, { resolve: (r: Reply) => void; timer: NodeJS.Timeout }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private running?: Promise<void>;
  private again = false;
  private closed = false;
  /** No takeWork round starts (CounterPump.drain); replies are still settled. */
  private draining = false;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;

  constructor(
    readonly locationId: string,
    readonly socket: PacSocket,
    private readonly opts: CounterPumpOptions,
    private readonly deps: CounterPumpDeps,
  ) {
    this.log = deps.logger.child({ locationId, fence: socket.fence });
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  start(): void {
    this.timers.push(setInterval(() => this.kick(), this.opts.pollMs));
    this.timers.push(setInterval(() => this.refreshTerminals(), this.opts.terminalsRefreshMs));
    this.refreshTerminals();
    this.kick();
  }

  drain(): void {
    this.draining = true;
    for (const t of this.timers) clearInterval(t);
  }

  inFlightIds(): string[] {
    return [...this.inFlight.keys()];
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const f of this.inFlight.values()) clearTimeout(f.timer);
    for (const t of this.settling.values()) clearTimeout(t);
    this.settling.clear();
    if (this.inFlight.size > 0) this.log.warn({ transactions: [...this.inFlight.keys()], why }, 'PAC transactions in flight lost their socket: they will be recovered');
    this.inFlight.clear();
    for (const [, r] of this.requests) {
      clearTimeout(r.timer);
      r.resolve({ error: { code: 0, message: `socket gone (${why})` } });
    }
    this.requests.clear();
  }

  /** Runs takeWork now, or once more after the round in progress (calls for the location are serialised). */
  kick(): void {
    if (this.closed || this.draining) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.round();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async round(): Promise<void> {
    let work: CounterWork[];
    try {
      work = await this.deps.port.takeWork(this.locationId, {
        fence: this.socket.fence,
        replicaId: this.opts.replicaId,
        inFlight: [...new Set([...this.inFlight.keys(), ...this.recovering, ...this.settling.keys()])],
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'counter takeWork failed; retrying on the next poll');
      return;
    }
    for (const item of work) {
      if (this.closed) {
        // Claimed but not written: the next owner's takeWork returns sends as recover and cancels again.
        this.log.warn({ transactionId: item.transactionId, op: item.op }, 'PAC socket closed before the work was written');
        continue;
      }
      if (item.op === 'send') await this.send(item);
      else if (item.op === 'cancel') this.cancel(item.transactionId, item.tid);
      else this.recover(item);
    }
  }

  private async send(item: CounterSend): Promise<void> {
    const { transactionId, kind, tid } = item;
    const log = this.log.child({ transactionId, tid, kind });
    let frame: string;
    try {
      frame =
        kind === 'duplicate'
          ? ConnectPac.encodePacRequest(transactionId, 'duplicate', { tid })
          : ConnectPac.encodePacRequest(transactionId, kind, {
              tid,
              currency: item.currency,
              amount: item.amount ?? 0,
              ...(item.amountCashback ? { amountCashback: item.amountCashback } : {}),
            });
    } catch (err) {
      // Never written: nothing ran on the terminal.
      log.warn({ err: (err as Error).message }, 'PAC request does not fit Connect: refused without sending');
      await this.settle(transactionId, { kind: 'refused', code: ConnectPac.PAC_ERROR_CODES.invalidParams, message: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => this.replyTimedOut(transactionId), this.opts.replyTimeoutMs);
    this.inFlight.set(transactionId, { kind, tid, timer });
    const sent = await this.socket.send(frame).catch(() => false);
    if (!sent) {
      clearTimeout(timer);
      this.inFlight.delete(transactionId);
      log.warn('PAC request not written (socket closed or lease lost): it will be recovered');
      return;
    }
    log.info({ amount: item.amount, currency: item.currency }, 'PAC request sent');
  }

  private replyTimedOut(transactionId: string): void {
    if (!this.inFlight.delete(transactionId)) return;
    this.log.warn({ transactionId, afterMs: this.opts.replyTimeoutMs }, 'no PAC reply in time: the transaction will be recovered');
    this.kick();
  }

  private cancel(transactionId: string, tid: string): void {
    void this.request('cancelTransaction', { tid }).then((r) => {
      if ('error' in r) this.log.warn({ transactionId, tid, code: r.error.code, err: r.error.message }, 'cancelTransaction refused (the outcome still comes as the sale reply)');
      else this.log.info({ transactionId, tid, status: (r.result as { status?: unknown } | null)?.status }, 'cancelTransaction sent');
    });
  }

  onReply(reply: DecodedReply): void {
    const id = String(reply.id);
    const own = this.requests.get(id);
    if (own) {
      this.requests.delete(id);
      clearTimeout(own.timer);
      own.resolve(reply.error ? { error: reply.error } : { result: reply.result });
      return;
    }
    const f = this.inFlight.get(id);
    if (!f) {
      // A late reply (after the reply timeout), or Connect repeating one: still the terminal's word; settling is idempotent.
      if (/^[0-9a-f-]{36}$/i.test(id)) {
        this.log.warn({ transactionId: id }, 'PAC reply for a transaction not in flight here: settled anyway (the settle is once only)');
        void this.settle(id, this.outcomeOf('sale', reply));
      } else this.log.warn({ rpcId: id }, 'PAC reply to no request of ours: dropped');
      return;
    }
    clearTimeout(f.timer);
    const outcome = this.outcomeOf(f.kind, reply);
    this.log.info({ transactionId: id, tid: f.tid, outcome: outcome.kind, result: outcome.kind === 'transaction' ? outcome.transaction.transactionResult : undefined }, 'PAC reply');
    void this.settle(id, outcome).finally(() => {
      this.inFlight.delete(id);
      this.kick(); // the terminal is free: a queued transaction on it may go
    });
  }

  private outcomeOf(kind: ConnectPac.PacTransactionMethod, reply: DecodedReply): CounterOutcome {
    if (reply.error) return { kind: 'refused', code: reply.error.code, message: reply.error.message };
    // The transaction as read: a field that decides no money and has another form is dropped, never the outcome.
    const read = ConnectPac.readPacResult(kind, reply.result);
    return read.ok ? { kind: 'transaction', transaction: read.result } : { kind: 'unreadable', problem: read.problem, raw: reply.result };
  }

  /** Enqueues the settle job, retrying briefly; an outcome that cannot be queued is left to recovery. */
  private async settle(transactionId: string, outcome: CounterOutcome): Promise<void> {
    const job: CounterSettleJob = { locationId: this.locationId, transactionId, outcome, replicaId: this.opts.replicaId, traceId: newTraceId() };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.settler.settle(job);
        if (!this.closed) {
          clearTimeout(this.settling.get(transactionId));
          this.settling.set(
            transactionId,
            setTimeout(() => this.settling.delete(transactionId), this.opts.replyTimeoutMs),
          );
        }
        return;
      } catch (err) {
        if (attempt >= SETTLE_ATTEMPTS) {
          this.log.error({ transactionId, outcome: outcome.kind, err: (err as Error).message }, 'counter outcome could not be queued: it will be recovered with duplicate');
          return;
        }
        await new Promise((r) => setTimeout(r, SETTLE_RETRY_MS * attempt));
      }
    }
  }

  /** One request of ours with its own id; resolves with the reply, or an error when it timed out or the socket went. */
  private async request<M extends ConnectPac.PacRequestMethod>(method: M, params: ConnectPac.PacRequestParams[M]): Promise<Reply> {
    if (this.closed) return { error: { code: 0, message: 'socket gone' } };
    const id = `${method}.${randomUUID()}`;
    const done = new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        resolve({ error: { code: 0, message: `no reply to ${method} within ${this.requestTimeoutMs} ms` } });
      }, this.requestTimeoutMs);
      this.requests.set(id, { resolve, timer });
    });
    const sent = await this.socket.send(ConnectPac.encodePacRequest(id, method, params)).catch(() => false);
    if (!sent) {
      const r = this.requests.get(id);
      if (r) {
        clearTimeout(r.timer);
        this.requests.delete(id);
      }
      return { error: { code: 0, message: `${method} not written (socket closed or lease lost)` } };
    }
    return done;
  }

  /** connectedTerminals, written to the snapshot; the list, or undefined when Connect did not give one. */
  private async readTerminals(): Promise<ConnectPac.PacTerminal[] | undefined> {
    const r = await this.request('connectedTerminals', {});
    if ('error' in r) {
      this.log.warn({ code: r.error.code, err: r.error.message }, 'connectedTerminals failed');
      return undefined;
    }
    const problem = ConnectPac.pacResultProblem('connectedTerminals', r.result);
    if (problem) {
      this.log.warn({ problem }, 'connectedTerminals reply does not fit: ignored');
      return undefined;
    }
    const terminals = (r.result as ConnectPac.PacResults['connectedTerminals']).terminals;
    if (!this.closed) {
      await this.deps.terminals
        .write({ locationId: this.locationId, observedAt: new Date().toISOString(), replicaId: this.opts.replicaId, terminals })
        .catch((err: Error) => this.log.warn({ err: err.message }, 'terminals snapshot not written'));
    }
    return terminals;
  }

  refreshTerminals(): void {
    if (this.closed) return;
    void this.readTerminals();
  }

  /**
   * A transaction whose reply this replica does not have: wait until its terminal is AVAILABLE, ask `duplicate`
   * (the terminal's last transaction), and settle `recovered` with it; the worker matches it to the transaction.
   * Past recoverGiveUpMs without an answer, settle `unknown` (failed outcome_unknown).
   */
  private recover(item: CounterRecover): void {
    if (this.recovering.has(item.transactionId)) return;
    this.recovering.add(item.transactionId);
    const log = this.log.child({ transactionId: item.transactionId, tid: item.tid });
    log.info({ sentAt: item.sentAt }, 'recovering a PAC transaction with duplicate');
    void this.runRecover(item, log)
      .catch((err: Error) => log.error({ err: err.message }, 'recovery failed; retried on the next takeWork'))
      .finally(() => {
        this.recovering.delete(item.transactionId);
      });
  }

  private async runRecover(item: CounterRecover, log: Logger): Promise<void> {
    const startedAt = Date.now();
    /** Why the terminal's last transaction has not been read yet: the reason given if recovery gives up. */
    let why = 'the connected terminals could not be read';
    while (!this.closed) {
      // Bounded whatever stands in the way (the terminal away or busy, `duplicate` failing on terminals that do not
      // support it, the terminals unreadable): the transaction then ends outcome_unknown instead of staying
      // `recovering`, which would keep every later command for this terminal waiting.
      if (Date.now() - startedAt >= this.opts.recoverGiveUpMs) {
        log.warn({ afterMs: this.opts.recoverGiveUpMs, why }, "the terminal's last transaction could not be read: its outcome is unknown");
        await this.settle(item.transactionId, { kind: 'unknown', reason: `${why} for ${Math.round(this.opts.recoverGiveUpMs / 1000)} s` });
        return;
      }
      const terminals = await this.readTerminals();
      if (this.closed) return;
      const t = terminals?.find((x) => x.tid === item.tid);
      if (terminals && !t) why = 'the terminal was not connected';
      else if (t && t.status !== 'AVAILABLE') why = 'the terminal stayed busy';
      if (t?.status === 'AVAILABLE') {
        const r = await this.request('duplicate', { tid: item.tid });
        if (this.closed) return;
        if ('error' in r) {
          if (r.error.code === ConnectPac.PAC_ERROR_CODES.noTransaction) {
            log.info('duplicate: the terminal has no transaction');
            await this.settle(item.transactionId, { kind: 'recovered', transaction: null });
            return;
          }
          why = `duplicate failed (${r.error.code}: ${r.error.message})`;
          log.warn({ code: r.error.code, err: r.error.message }, 'duplicate failed; trying again');
        } else {
          const read = ConnectPac.readPacResult('duplicate', r.result);
          const outcome: CounterOutcome = read.ok ? { kind: 'recovered', transaction: read.result } : { kind: 'unreadable', problem: read.problem, raw: r.result };
          log.info({ outcome: outcome.kind }, 'duplicate answered');
          await this.settle(item.transactionId, outcome);
          return;
        }
      }
      await new Promise((res) => setTimeout(res, this.opts.pollMs));
    }
  }
}
