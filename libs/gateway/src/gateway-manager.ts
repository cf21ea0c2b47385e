import type Redis from 'ioredis';
import type WebSocket from 'ws';
import type { Logger, LinkSample } from '@app/common';
import type { CounterCommandMessage, CounterCommandPort, LocationChangedMessage, LocationReconnectMessage } from '@app/contracts';
import { Channels, CounterChannels, METHOD_INFO, EPOS_METHODS } from '@app/contracts';
import type { ConnectionStatus } from '@app/queue';
import { RequestLogWriter, writeConnectionStatuses } from '@app/queue';
import { DialGate } from './connection/dial-gate';
import type { LinkOptions } from './connection/location-link';
import { LocationLink } from './connection/location-link';
import type { DispatchOptions, RpcCaller } from './dispatch/request-dispatcher';
import { RequestDispatcher } from './dispatch/request-dispatcher';
import type { ReadCacheHooks } from './dispatch/read-cache';
import { LocationBook } from './locations/location-book';
import type { LocationConfig } from './locations/location-config';
import { besideCounterConfig, CONNECT_PAC_PROFILE } from './locations/location-config';
import type { CounterPumpOptions, SettleQueue, PacSocket, TerminalsStore } from './counter/counter-pump';
import { CounterPump } from './counter/counter-pump';
import { leaseKey, LeaseStore, releasedChannel } from './ownership/lease-store';
import { Membership } from './ownership/membership';
import { rendezvousOwner } from './ownership/rendezvous';
import type { ConnectionProfile, DecodedReply } from './profiles/connection-profile';
import { boundCounter, gatewayMetrics } from '@app/common';

export interface LocationProvider {
  loadAll(): Promise<LocationConfig[]>;
  loadOne(locationId: string): Promise<LocationConfig | undefined>;
}

export interface GatewayManagerOptions {
  replicaId: string;
  /** Key prefix (QUEUE_PREFIX) for membership, leases and statuses. */
  prefix: string;
  leaseTtlMs: number;
  resyncMs: number;
  connectRate: number;
  /**
   * How long stop() may wait for the replies in flight before it closes the links (from SHUTDOWN_TIMEOUT_MS, less
   * what the close itself needs): past it, the leases are released in time instead of the process being ended with
   * them still held. Unset: each method's deadline.
   */
  replyWaitMs?: number;
  link: LinkOptions;
  dispatch: DispatchOptions;
  /** The counter pump's timings (COUNTER_*); used when deps.counter is given. */
  counter?: Omit<CounterPumpOptions, 'replicaId'>;
}

export interface GatewayManagerDeps {
  /** Command connection (membership, leases, statuses, publish). */
  redis: Redis;
  /** A connection this manager may put into subscriber mode. */
  subscriber: Redis;
  rpc: RpcCaller & { start(): Promise<void>; close(): Promise<void> };
  /** GATEWAY_READS=local: answers the requests that only read, in this process (InProcessRpcCaller); rpc the rest. */
  reads?: RpcCaller;
  /** GATEWAY_READ_CACHE: the reads' copy of the orders, told of the changes this replica answers (GatewayReadCache). */
  readCache?: ReadCacheHooks;
  locations: LocationProvider;
  profiles: Map<string, ConnectionProfile>;
  logger: Logger;
  /** Pay at counter: without it, PAC links are held but no counter work is taken. */
  counter?: { port: CounterCommandPort; settler: SettleQueue; terminals: TerminalsStore };
}

export interface ReplicaStatus {
  replicaId: string;
  members: string[];
  stopping: boolean;
  inFlight: number;
  locations: ConnectionStatus[];
}

/**
 * One gateway replica: keeps membership alive, works out which locations are
 * its share (rendezvous hashing over live replicas), holds a fenced lease and
 * one link for each, hands locations over when membership changes, reacts to
 * location changes, and shuts down by draining and handing everything over.
 */
export class GatewayManager {
  private readonly membership: Membership;
  private readonly leases: LeaseStore;
  private readonly dispatcher: RequestDispatcher;
  private readonly requestLog: RequestLogWriter;
  private readonly gate: DialGate;
  /** When the leases held were last renewed (renewHeld), for renewIfDue. */
  private lastRenewAt = 0;
  private readonly locations = new LocationBook();
  private readonly links = new Map<string, LocationLink>();
  /** PAC links held beside a location's own link (counter_links), under the same lease and fence. */
  private readonly counterLinks = new Map<string, LocationLink>();
  private readonly counterPump?: CounterPump;
  /** The pump's view of each open PAC socket. */
  private readonly pacSockets = new WeakMap<WebSocket, PacSocket>();
  private readonly leaseValidUntil = new Map<string, number>();
  private readonly orphanSince = new Map<string, number>();
  /**
   * Orphans this replica adopted, with the member list (ownerOf's key) they were adopted under: not handed back to
   * their rendezvous owner, which left them free for two lease periods, until the member list changes.
   */
  private readonly adopted = new Map<string, string>();
  private readonly disabledSince = new Map<string, Date>();
  private members: string[] = [];
  /** Rendezvous owner per location, valid for the member list in ownersFor. */
  private readonly owners = new Map<string, string | undefined>();
  private ownersFor = '';
  /**
   * Closes links whose lease is about to lapse without a renewal (stepDownExpired): one timer, armed for the
   * earliest validity among the links (watchLease), so each link closes on time without a timer per link.
   */
  private leaseWatch?: NodeJS.Timeout;
  /** When leaseWatch fires. */
  private leaseWatchAt = Infinity;
  /** Set once stop() has closed the links: the lease watch is not armed again. */
  private linksClosed = false;
  private tickTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private tickAgain = false;
  /** Step-downs whose links are still closing (stop() waits for them). */
  private readonly steppingDown = new Set<Promise<void>>();
  private started = false;
  private stopping = false;
  /** Frames received and not yet answered on their socket (dispatch plus the fenced send). */
  private repliesInProgress = 0;
  private readonly statusTtlMs: number;
  /** An unchanged status record is written again (its TTL refreshed) this long after its last write. */
  private readonly statusRefreshMs: number;
  /** What was last written per location: a fingerprint of the record without lastPongAt (LocationLink.statusKey), and when. */
  private readonly written = new Map<string, { sig: string; at: number }>();
  /** Locations whose status changed since the last flush. */
  private readonly dirty = new Set<string>();
  private flushQueued = false;
  private readonly metrics = gatewayMetrics();
  private readonly renewed = boundCounter(this.metrics.leaseRenewals, 'renewed');
  private readonly renewLost = boundCounter(this.metrics.leaseRenewals, 'lost');
  private readonly stepDownLease = boundCounter(this.metrics.stepDowns, 'lease_lost');
  private readonly stepDownFence = boundCounter(this.metrics.stepDowns, 'fence_check');
  /** Removes this replica's links from epos_relay_gateway_links (on stop). */
  private unprovideLinks?: () => void;

  constructor(
    private readonly opts: GatewayManagerOptions,
    private readonly deps: GatewayManagerDeps,
  ) {
    this.membership = new Membership(deps.redis, opts.prefix, opts.replicaId, opts.leaseTtlMs);
    this.leases = new LeaseStore(deps.redis, opts.prefix, opts.replicaId, opts.leaseTtlMs);
    // Each answered request goes to the location's capped record in Redis (one pipeline per REQUEST_LOG_FLUSH_MS).
    const requestLog = (this.requestLog = new RequestLogWriter(deps.redis, opts.prefix));
    this.dispatcher = new RequestDispatcher(
      deps.rpc,
      opts.dispatch,
      deps.logger,
      (locationId, entry) => requestLog.record(locationId, { ...entry, replicaId: opts.replicaId }),
      deps.reads,
      deps.readCache,
    );
    this.gate = new DialGate(opts.connectRate);
    if (deps.counter && opts.counter) {
      this.counterPump = new CounterPump({ ...opts.counter, replicaId: opts.replicaId }, { ...deps.counter, logger: deps.logger.child({ component: 'counter-pump' }) });
    }
    this.statusTtlMs = Math.max(3 * opts.leaseTtlMs, 3_000);
    this.statusRefreshMs = Math.floor(this.statusTtlMs / 3);
  }

  get replicaId(): string {
    return this.opts.replicaId;
  }

  private get heartbeatMs(): number {
    return Math.max(50, Math.floor(this.opts.leaseTtlMs / 3));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const log = this.deps.logger;
    await this.deps.rpc.start();
    const released = releasedChannel(this.opts.prefix);
    const changed = Channels.locationChanged(this.opts.prefix);
    const reconnect = Channels.locationReconnect(this.opts.prefix);
    const counterCommands = CounterChannels.commands(this.opts.prefix);
    this.deps.subscriber.on('message', (channel: string, message: string) => {
      // Never rejects: onLocationChanged logs its own failures.
      if (channel === changed) void this.onLocationChanged(message);
      else if (channel === reconnect) this.onReconnectRequested(message);
      else if (channel === released) this.requestTick();
      else if (channel === counterCommands) this.onCounterCommand(message);
    });
    await this.deps.subscriber.subscribe(changed, reconnect, released, ...(this.counterPump ? [counterCommands] : []));
    this.unprovideLinks = this.metrics.links.provide(() => this.linkSamples());
    await this.resync();
    await this.runTick();
    this.tickTimer = setInterval(() => this.requestTick(), this.heartbeatMs);
    this.resyncTimer = setInterval(() => {
      void this.resync()
        .then(() => this.requestTick())
        .catch((err: Error) => log.warn({ err: err.message }, 'location resync failed'));
    }, this.opts.resyncMs);
    log.info({ locations: this.locations.size }, 'gateway replica started'); // the logger is bound to replicaId
  }

  /** Graceful shutdown: refuse new requests, finish in-flight ones within their deadlines, close links with 1001, hand over at once. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    const log = this.deps.logger;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    // Best effort: a replica that cannot say goodbye drops out of the member list when its entry expires.
    await this.membership.leave().catch(() => undefined);
    this.dispatcher.drain();
    // No new counter work; the replies to what is on the terminals are still settled while the PAC sockets are open
    // (until the links close below). Outcomes that come later are recovered by the next owner (duplicate).
    this.counterPump?.drain();
    // Replies are waited for within the longest deadline and the shutdown's budget, whichever ends first. A request
    // still unanswered then (a PAC signature request waiting for the POS may wait 75 s) gets no reply from here: Dojo
    // retries it on the next owner, and Connect decides a signature by itself when its window passes.
    const maxDeadline =
      this.opts.dispatch.deadlineOverrideMs > 0 ? this.opts.dispatch.deadlineOverrideMs : Math.max(...EPOS_METHODS.map((m) => METHOD_INFO[m].deadlineMs));
    const until = Date.now() + Math.min(maxDeadline + 250, this.opts.replyWaitMs ?? Infinity);
    while (this.repliesInProgress > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (this.tickTimer) clearInterval(this.tickTimer);
    // A tick still running (a long handover) stops at its next venue; until it has, it keeps renewing the leases
    // held, and the lease watch keeps closing a link whose lease could not be renewed.
    await this.ticking?.catch(() => undefined); // runTick logs a failed tick itself
    // One renewal more, so each lease outlasts its link's close below (a link whose lease is lost steps down here);
    // not waited for past a third of the TTL (a Redis that hangs), the links are closed either way.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      this.renewHeld().catch((err: Error) => log.warn({ err: err.message }, 'leases not renewed before closing the links')),
      new Promise((r) => (waited = setTimeout(r, Math.max(50, Math.floor(this.opts.leaseTtlMs / 3))))),
    ]);
    clearTimeout(waited);
    // The answered requests' records still waiting for their write window (flush never rejects).
    await this.requestLog.flush();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(
      links.map(async (link) => {
        await this.stopCounterLink(link.locationId, 1001, 'EPOS gateway shutting down');
        await link.stop(1001, 'EPOS gateway shutting down');
        await this.leases
          .release(link.locationId, link.token)
          .catch((err: Error) => log.warn({ locationId: link.locationId, err: err.message }, 'lease not released on shutdown; it expires by itself'));
      }),
    );
    this.counterPump?.stop();
    this.linksClosed = true;
    clearTimeout(this.leaseWatch);
    // Links the lease watch or a lost renewal stepped down meanwhile: closed too before the replica says it stopped.
    await Promise.all([...this.steppingDown].map((p) => p.catch(() => undefined)));
    // Best effort: without the notice, other replicas adopt these locations on their next heartbeat instead of at once.
    if (links.length > 0) await this.deps.redis.publish(releasedChannel(this.opts.prefix), 'shutdown').catch(() => 0);
    // Best effort on the way out: the connections are being dropped either way.
    await this.deps.subscriber.quit().catch(() => undefined);
    await this.deps.rpc.close().catch((err: Error) => log.warn({ err: err.message }, 'RPC caller did not close cleanly'));
    this.unprovideLinks?.();
    log.info({ handedOver: links.length }, 'gateway replica stopped');
  }

  status(): ReplicaStatus {
    const locations: ConnectionStatus[] = [...this.links.values()].map((l) => this.withCounter(l.status(this.opts.replicaId)));
    for (const [id, since] of this.disabledSince) {
      locations.push({ locationId: id, state: 'disabled', since: since.toISOString(), replicaId: this.opts.replicaId, reconnects: 0, requestsServed: 0 });
    }
    return { replicaId: this.opts.replicaId, members: this.members, stopping: this.stopping, inFlight: this.dispatcher.inFlight, locations };
  }

  /** What epos_relay_gateway_links counts: each link by state and protocol, and the disabled locations this replica reports. */
  private linkSamples(): LinkSample[] {
    const out: LinkSample[] = [];
    for (const l of this.links.values()) out.push({ state: l.state, protocol: l.profileName });
    for (const l of this.counterLinks.values()) out.push({ state: l.state, protocol: l.profileName });
    for (const id of this.disabledSince.keys()) out.push({ state: 'disabled', protocol: this.locations.get(id)?.profile ?? 'epos-data' });
    return out;
  }

  /** Ids of locations this replica holds a link for. */
  ownedLocationIds(): string[] {
    return [...this.links.keys()].sort();
  }

  // ---- locations -----------------------------------------------------------

  private async resync(): Promise<void> {
    const ticket = this.locations.startRead();
    const all = await this.deps.locations.loadAll();
    const seen = new Set<string>();
    for (const loc of all) {
      seen.add(loc.id);
      this.applyLocation(ticket, loc);
    }
    this.locations.keepOnly(ticket, seen);
  }

  /** A read's view of a location, unless a newer read's is already applied (LocationBook). */
  private applyLocation(ticket: number, loc: LocationConfig): void {
    if (!this.locations.put(ticket, loc)) return;
    const link = this.links.get(loc.id);
    if (link && link.location.configVersion !== loc.configVersion) {
      // A switched protocol re-dials with the new profile (URL, headers, codec); the venue's data stays as it is.
      const profile = this.deps.profiles.get(loc.profile);
      if (!profile) this.deps.logger.error({ locationId: loc.id, profile: loc.profile }, 'no connection profile of that name; keeping the old one');
      link.update(loc, profile);
    }
    if (link) this.syncCounterLink(loc, link.token);
  }

  private async onLocationChanged(message: string): Promise<void> {
    let msg: LocationChangedMessage;
    try {
      msg = JSON.parse(message) as LocationChangedMessage;
    } catch {
      return;
    }
    if (typeof msg?.locationId !== 'string' || !/^[0-9a-f-]{36}$/i.test(msg.locationId)) return;
    try {
      const ticket = this.locations.startRead();
      const loc = await this.deps.locations.loadOne(msg.locationId);
      if (loc) this.applyLocation(ticket, loc);
      else this.locations.remove(ticket, msg.locationId);
      this.deps.logger.info({ locationId: msg.locationId, configVersion: loc?.configVersion }, 'location changed');
      this.requestTick();
    } catch (err) {
      this.deps.logger.warn({ locationId: msg.locationId, err: (err as Error).message }, 'could not reload a changed location');
    }
  }

  /** An operator's reconnect (POST /v1/locations/{id}/reconnect): every replica hears it, the one holding the link acts. */
  private onReconnectRequested(message: string): void {
    let msg: LocationReconnectMessage;
    try {
      msg = JSON.parse(message) as LocationReconnectMessage;
    } catch {
      return;
    }
    if (typeof msg?.locationId !== 'string') return;
    const link = this.links.get(msg.locationId);
    if (!link || this.stopping) return;
    const outcome = link.reconnectNow();
    this.deps.logger.info({ locationId: msg.locationId, outcome, requestedAt: msg.requestedAt }, 'operator reconnect');
  }

  // ---- ownership -----------------------------------------------------------

  private requestTick(): void {
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    void this.runTick(); // never rejects: each tick's failure is logged in runTick
  }

  private runTick(): Promise<void> {
    const run = async () => {
      do {
        this.tickAgain = false;
        try {
          await this.tick();
        } catch (err) {
          this.deps.logger.warn({ err: (err as Error).message }, 'ownership tick failed');
        }
      } while (this.tickAgain && !this.stopping);
    };
    this.ticking = run().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async tick(): Promise<void> {
    const me = this.opts.replicaId;
    const started = Date.now();
    if (!this.stopping) {
      this.members = await this.membership.heartbeat();
      if (!this.members.includes(me)) this.members = [...this.members, me].sort();
    }

    // Renew what we hold; whatever is no longer ours is dropped at once (fencing).
    await this.renewHeld(started);
    if (this.stopping) return;

    const candidates: string[] = [];
    if (this.owners.size > this.locations.size + 1_000) this.owners.clear(); // removed locations
    // Each loop below stops at the next venue once stop() began: stop() waits for this tick before it closes the
    // links, and takes no venue on (the member list it would go by no longer has this replica).
    for (const loc of this.locations.values()) {
      if (this.stopping) return;
      await this.renewIfDue();
      const owner = this.ownerOf(loc.id);
      const mine = owner === me;
      const link = this.links.get(loc.id);
      if (!loc.enabled) {
        if (link) await this.dropLink(link, 1000, 'location disabled');
        if (mine) {
          if (!this.disabledSince.has(loc.id)) this.disabledSince.set(loc.id, new Date());
        } else this.disabledSince.delete(loc.id);
        continue;
      }
      this.disabledSince.delete(loc.id);
      if (mine) this.adopted.delete(loc.id);
      if (mine && !link) await this.tryAcquire(loc);
      else if (!mine && link) {
        // Adopted from an owner that did not take it (an older build without its profile during a rollout, or one that
        // cannot read it): handing it back would only leave it unlinked for two more lease periods, over and over.
        // It goes back once the member list changes (a restarted owner rejoins, a replica leaves or joins).
        if (this.adopted.get(loc.id) === this.ownersFor) continue;
        this.adopted.delete(loc.id);
        // The rightful owner is alive (it is in the member list): hand over.
        this.deps.logger.info({ locationId: loc.id, to: owner }, 'handing location over');
        await this.dropLink(link, 1001, 'handed over to another replica');
      } else if (!mine && !link) candidates.push(loc.id);
    }
    for (const id of [...this.links.keys()]) {
      if (this.stopping) return;
      await this.renewIfDue();
      const link = this.links.get(id);
      if (link && !this.locations.has(id)) await this.dropLink(link, 1000, 'location removed');
    }
    for (const id of [...this.disabledSince.keys()]) if (!this.locations.has(id)) this.disabledSince.delete(id);

    await this.adoptOrphans(candidates);
    this.flushStatuses(true);
  }

  /**
   * Renews the leases of every link held (started: when the renewal began, the safe side of their validity) and
   * steps down the links whose lease is no longer this replica's.
   */
  private async renewHeld(started = Date.now()): Promise<void> {
    this.lastRenewAt = started;
    const held = new Map([...this.links.values()].map((l) => [l.locationId, l.token] as const));
    const lost = await this.leases.renewAll(held);
    const lostSet = new Set(lost);
    if (held.size > lost.length) this.renewed.inc(held.size - lost.length);
    if (lost.length > 0) this.renewLost.inc(lost.length);
    for (const [id] of held) if (!lostSet.has(id)) this.leaseValidUntil.set(id, started + this.opts.leaseTtlMs);
    if (held.size > lost.length) this.watchLease(started + this.opts.leaseTtlMs);
    for (const id of lost) {
      if (this.links.has(id)) this.stepDownLease.inc();
      await this.stepDown(id, 'lease lost');
      await this.renewIfDue();
    }
  }

  /**
   * Inside a long tick (a replica joined and thousands of venues are handed over one close handshake after
   * another, or orphans adopted one dial each), renews the leases still held once a third of their TTL has passed
   * since the last renewal, so the venues this replica keeps never lapse to another replica while their sockets
   * are still open here.
   */
  private async renewIfDue(): Promise<void> {
    // Also while stopping: the links held stay open until stop() closes them, and their leases must outlast them.
    if (Date.now() - this.lastRenewAt < this.opts.leaseTtlMs / 3) return;
    await this.renewHeld();
  }

  /** The rendezvous owner among the current members (hashed once per location while the member list stays the same). */
  private ownerOf(locationId: string): string | undefined {
    const key = this.members.join('\n');
    if (key !== this.ownersFor) {
      this.owners.clear();
      this.ownersFor = key;
    }
    if (this.owners.has(locationId)) return this.owners.get(locationId);
    const owner = rendezvousOwner(locationId, this.members);
    this.owners.set(locationId, owner);
    return owner;
  }

  /** Locations whose lease has been free for a whole lease period (their owner never took them) are taken by anyone. */
  private async adoptOrphans(ids: string[]): Promise<void> {
    const now = Date.now();
    const keep = new Set(ids);
    for (const id of [...this.orphanSince.keys()]) if (!keep.has(id)) this.orphanSince.delete(id);
    if (ids.length === 0) return;
    const values: (string | null)[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      values.push(...(await this.deps.redis.mget(...ids.slice(i, i + 500).map((id) => leaseKey(this.opts.prefix, id)))));
    }
    for (let i = 0; i < ids.length; i++) {
      if (this.stopping) return;
      const id = ids[i]!;
      await this.renewIfDue();
      if (values[i]) {
        this.orphanSince.delete(id);
        continue;
      }
      const since = this.orphanSince.get(id);
      if (since === undefined) this.orphanSince.set(id, now);
      else if (now - since >= 2 * this.opts.leaseTtlMs) {
        const loc = this.locations.get(id);
        if (loc) {
          this.deps.logger.info({ locationId: id, owner: this.ownerOf(id) }, 'adopting an orphaned location');
          await this.tryAcquire(loc);
          if (this.links.has(id)) this.adopted.set(id, this.ownersFor);
        }
        this.orphanSince.delete(id);
      }
    }
  }

  private async tryAcquire(loc: LocationConfig): Promise<void> {
    const profile = this.deps.profiles.get(loc.profile);
    if (!profile) {
      this.deps.logger.error({ locationId: loc.id, profile: loc.profile }, 'no connection profile of that name');
      return;
    }
    if (this.stopping) return;
    const startedAt = Date.now();
    const token = await this.leases.acquire(loc.id);
    if (token === undefined) return;
    if (this.stopping) {
      // stop() began while the lease was being taken: give it back at once rather than dial only to hang up.
      await this.leases.release(loc.id, token).catch(() => undefined); // otherwise it expires by itself
      return;
    }
    this.leaseValidUntil.set(loc.id, startedAt + this.opts.leaseTtlMs);
    this.watchLease(startedAt + this.opts.leaseTtlMs);
    this.dispatcher.owned(loc.id);
    const link = this.newLink(loc, token, profile);
    this.links.set(loc.id, link);
    this.deps.logger.info({ locationId: loc.id, fence: token }, 'lease acquired');
    link.start();
    this.syncCounterLink(loc, token);
  }

  /** A link of the location under the lease `token`: its own, or the PAC link beside it (same hooks, same fence). */
  private newLink(loc: LocationConfig, token: number, profile: ConnectionProfile): LocationLink {
    return new LocationLink(
      loc,
      token,
      profile,
      this.opts.link,
      {
        fenceValid: (id, t) => this.fenceValid(id, t),
        onFenceLost: (id) => {
          // Only the link of this lease: a fence check of an older link that ended while it waited on Redis says
          // nothing about the venue's newer link (re-adopted under a newer token), which must not be closed for it.
          if (this.links.get(id)?.token !== token) return;
          this.stepDownFence.inc();
          // Never rejects in practice: stepDown only stops the link, which handles its own socket errors.
          void this.stepDown(id, 'fencing check failed');
        },
        onFrame: (l, socket, data, receivedAt) => this.onFrame(l, socket, data, receivedAt),
        onStatus: (l) => {
          if (this.links.get(l.locationId) === l || this.counterLinks.get(l.locationId) === l) this.markDirty(l.locationId);
        },
        onSocketOpen: (l, socket) => {
          if (!this.counterPump || l.profileName !== CONNECT_PAC_PROFILE) return;
          const pac: PacSocket = { fence: l.token, send: (text) => l.send(socket, text) };
          this.pacSockets.set(socket, pac);
          this.counterPump.attach(l.locationId, pac);
        },
        onSocketClosed: (l, socket) => {
          const pac = this.pacSockets.get(socket);
          if (pac) this.counterPump?.detach(l.locationId, pac);
        },
      },
      this.gate,
      this.deps.logger,
    );
  }

  /**
   * Holds, updates or drops the PAC link beside the location's own link (counter_links), under the lease the
   * replica holds (`token`). A connect-pac location's own link is its PAC link: nothing beside it.
   */
  private syncCounterLink(loc: LocationConfig, token: number): void {
    const cfg = besideCounterConfig(loc);
    const side = this.counterLinks.get(loc.id);
    if (side && (!cfg || side.token !== token)) {
      this.counterLinks.delete(loc.id);
      void side.stop(1000, 'counter link removed'); // never rejects: stop handles its own socket errors
      this.markDirty(loc.id);
      if (!cfg) return;
    } else if (side && cfg) {
      side.update(cfg);
      return;
    }
    if (!cfg || this.stopping) return;
    const profile = this.deps.profiles.get(CONNECT_PAC_PROFILE);
    if (!profile) {
      this.deps.logger.error({ locationId: loc.id }, 'no connect-pac profile: the counter link is not held');
      return;
    }
    const link = this.newLink(cfg, token, profile);
    this.counterLinks.set(loc.id, link);
    this.deps.logger.info({ locationId: loc.id, fence: token }, 'holding the counter (PAC) link beside the location link');
    link.start();
  }

  private async stopCounterLink(locationId: string, code: number, reason: string): Promise<void> {
    const side = this.counterLinks.get(locationId);
    if (!side) return;
    this.counterLinks.delete(locationId);
    await side.stop(code, reason);
  }

  /** A location's status with its beside PAC link's state. */
  private withCounter(st: ConnectionStatus): ConnectionStatus {
    const side = this.counterLinks.get(st.locationId);
    if (!side) return st;
    const c = side.status(this.opts.replicaId);
    return {
      ...st,
      counter: {
        state: c.state,
        since: c.since,
        reconnects: c.reconnects,
        ...(c.lastError ? { lastError: c.lastError } : {}),
        ...(c.lastDisconnect ? { lastDisconnect: c.lastDisconnect } : {}),
        ...(c.nextAttemptAt ? { nextAttemptAt: c.nextAttemptAt } : {}),
        ...(c.lastHttpStatus ? { lastHttpStatus: c.lastHttpStatus } : {}),
      },
    };
  }

  /** CounterChannels.commands: every replica hears it; the pump acts only on a location it pumps. */
  private onCounterCommand(message: string): void {
    let msg: CounterCommandMessage;
    try {
      msg = JSON.parse(message) as CounterCommandMessage;
    } catch {
      return;
    }
    if (typeof msg?.locationId !== 'string' || (msg.what !== 'work' && msg.what !== 'refresh_terminals')) return;
    this.counterPump?.onCommand(msg);
  }

  private async fenceValid(locationId: string, token: number): Promise<boolean> {
    const link = this.links.get(locationId);
    if (!link || link.token !== token) return false;
    const now = Date.now();
    const validUntil = this.leaseValidUntil.get(locationId) ?? 0;
    const localOk = now < validUntil;
    if (!localOk) return false; // paused past the lease: do not trust anything until a renewal succeeds
    // Redis confirmed the lease (acquire or renewal, which run every heartbeat) less than a heartbeat ago: no other
    // replica can hold it before it expires, so the reply goes out without a round trip. Only a lease removed behind
    // the replica's back (a Redis failover that lost it, an operator) goes unnoticed that long; the renewal then
    // steps down, and the worker's fencing check still refuses a state change from the stale token.
    if (now - (validUntil - this.opts.leaseTtlMs) < this.heartbeatMs) return true;
    try {
      return await this.leases.verify(locationId, token);
    } catch {
      return localOk;
    }
  }

  /**
   * How long before its lease's validity ends a link whose lease was not renewed is closed: a tenth of the TTL, at
   * most 1 s (what a close handshake may take, LocationLink.stop), so the socket is gone by about when the lease lapses
   * in Redis. A replica that renews on time (every third of the TTL) never comes that close.
   */
  private get stepDownMarginMs(): number {
    return Math.min(1_000, Math.floor(this.opts.leaseTtlMs / 10));
  }

  /** Arms the lease watch for a link whose lease is valid until `validUntil`, unless it is armed for no later. */
  private watchLease(validUntil: number): void {
    const at = validUntil - this.stepDownMarginMs;
    if (this.linksClosed || (this.leaseWatch !== undefined && this.leaseWatchAt <= at)) return;
    clearTimeout(this.leaseWatch);
    this.leaseWatchAt = at;
    this.leaseWatch = setTimeout(() => this.stepDownExpired(), Math.max(0, at - Date.now()));
  }

  /**
   * Links whose lease this replica could not renew in time (Redis unreachable, or a renewal hanging on a dead
   * connection: the tick then never gets to step them down) are closed just before their lease's validity passes
   * (stepDownMarginMs): from then on another replica may hold the venue, and two sockets for one venue must not stay
   * open. The tick takes the venue again when Redis answers and the lease is still free. Runs when the lease watch
   * fires (about once per renewal while all is well: the renewals have moved every validity on), and arms it again
   * for the earliest validity left.
   */
  private stepDownExpired(): void {
    this.leaseWatch = undefined;
    this.leaseWatchAt = Infinity;
    // Also while stopping, until stop() has closed the links: a link past its lease must not stay open meanwhile.
    const now = Date.now();
    let next = Infinity;
    for (const id of [...this.links.keys()]) {
      const validUntil = this.leaseValidUntil.get(id) ?? 0;
      if (validUntil - this.stepDownMarginMs > now) {
        next = Math.min(next, validUntil);
        continue;
      }
      this.stepDownLease.inc();
      void this.stepDown(id, 'lease not renewed in time (is Redis reachable?)').catch((err: Error) =>
        this.deps.logger.warn({ locationId: id, err: err.message }, 'step-down failed'),
      );
    }
    if (next !== Infinity) this.watchLease(next);
  }

  private async stepDown(locationId: string, why: string): Promise<void> {
    const link = this.links.get(locationId);
    if (!link) return;
    this.links.delete(locationId);
    this.leaseValidUntil.delete(locationId);
    this.adopted.delete(locationId);
    this.deps.logger.warn({ locationId, fence: link.token, why }, 'stepping down');
    const closing = (async () => {
      await this.stopCounterLink(locationId, 1001, 'EPOS gateway handing over');
      await link.stop(1001, 'EPOS gateway handing over');
      // Its requests now reach another replica: free the reply cache.
      this.dispatcher.forget(locationId);
    })();
    this.steppingDown.add(closing);
    try {
      await closing;
    } finally {
      this.steppingDown.delete(closing);
    }
  }

  private async dropLink(link: LocationLink, code: number, reason: string): Promise<void> {
    this.links.delete(link.locationId);
    this.leaseValidUntil.delete(link.locationId);
    this.adopted.delete(link.locationId);
    await this.stopCounterLink(link.locationId, code, reason);
    await link.stop(code, reason);
    // The link is closed for good here (disabled, removed or handed over): free its reply cache.
    this.dispatcher.forget(link.locationId);
    await this.leases
      .release(link.locationId, link.token)
      .catch((err: Error) => this.deps.logger.warn({ locationId: link.locationId, err: err.message }, 'lease not released; it expires by itself'));
    // Best effort: without the notice, the new owner adopts the location on its next heartbeat instead of at once.
    await this.deps.redis.publish(releasedChannel(this.opts.prefix), link.locationId).catch(() => 0);
  }

  private onFrame(link: LocationLink, socket: WebSocket, data: Buffer, receivedAt: number): void {
    const profile = this.deps.profiles.get(link.location.profile);
    if (!profile) return;
    // Counted from receipt until the reply is on the socket (the fence check before
    // sending is async), so a graceful stop never closes a link under a reply.
    this.repliesInProgress++;
    // Handled in the chain: a failed reply is logged below.
    const pac = this.pacSockets.get(socket);
    const onReply = pac && this.counterPump ? (r: DecodedReply) => this.counterPump!.onReply(link.locationId, pac, r) : undefined;
    void this.dispatcher
      .handle({ location: link.location, fence: link.token, profile, receivedAt, onReply }, data)
      .then((text) => (text === undefined ? false : link.reply(socket, text)))
      .catch((err: Error) => this.deps.logger.error({ locationId: link.locationId, err: err.message }, 'reply failed'))
      .finally(() => this.repliesInProgress--);
  }

  // ---- statuses ------------------------------------------------------------

  /** The status this replica reports for a location, if it reports one. */
  private statusOf(id: string): ConnectionStatus | undefined {
    const link = this.links.get(id);
    if (link) return this.withCounter(link.status(this.opts.replicaId));
    const since = this.disabledSince.get(id);
    if (!since) return undefined;
    return {
      locationId: id,
      state: 'disabled',
      since: since.toISOString(),
      replicaId: this.opts.replicaId,
      reconnects: 0,
      requestsServed: 0,
      configVersion: this.locations.get(id)?.configVersion,
    };
  }

  /** A link's status changed: write it soon, batched with others that change in the same turn of the event loop. */
  private markDirty(id: string): void {
    this.dirty.add(id);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flushStatuses(false);
    });
  }

  /**
   * Writes the status records that changed, plus those due for a refresh (so
   * they do not expire), in one pipelined batch. A change of lastPongAt alone
   * waits for the refresh. `all` checks every reported location (the heartbeat);
   * otherwise only the ones marked dirty.
   */
  private flushStatuses(all: boolean): void {
    const now = Date.now();
    const ids = all ? new Set([...this.links.keys(), ...this.disabledSince.keys(), ...this.dirty]) : new Set(this.dirty);
    this.dirty.clear();
    if (all) for (const id of this.written.keys()) if (!ids.has(id)) this.written.delete(id);
    const out: ConnectionStatus[] = [];
    for (const id of ids) {
      const link = this.links.get(id);
      const since = link ? undefined : this.disabledSince.get(id);
      if (!link && !since) {
        this.written.delete(id);
        continue;
      }
      const sig = link ? `${link.statusKey()}|${this.counterLinks.get(id)?.statusKey() ?? ''}` : `disabled|${since!.getTime()}|${this.locations.get(id)?.configVersion ?? ''}`;
      const prev = this.written.get(id);
      if (prev && prev.sig === sig && now - prev.at < this.statusRefreshMs) continue;
      this.written.set(id, { sig, at: now });
      out.push(this.statusOf(id)!);
    }
    if (out.length === 0) return;
    writeConnectionStatuses(this.deps.redis, this.opts.prefix, out, this.statusTtlMs).catch(() => {
      // Not written: forget them so the next heartbeat writes them again.
      for (const st of out) if (this.written.get(st.locationId)?.at === now) this.written.delete(st.locationId);
    });
  }
}
