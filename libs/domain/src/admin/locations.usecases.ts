import { randomUUID } from 'node:crypto';
import { ALL_CAPABILITIES, unknownCapabilities } from '@app/contracts';
import { apiKeyAad } from '@app/db';
import { DomainError, FieldError, isForeignKeyViolation, isUniqueViolation } from './errors';
import type { AdminDeps } from './ports';
import { ConnectionView, LOCATION_SELECT, LocationView, toLocationView } from './location-view';

export interface OnboardLocationInput {
  name: string;
  softwareHouseId: string;
  dojoAccountId: string;
  apiKey: string;
  resellerId?: string | null;
  wsUrl?: string | null;
  restUrl?: string | null;
  currency?: string;
  /** Capability names to register; every capability the platform serves when omitted. */
  capabilities?: string[];
}

const KEY_PREFIXES = { sk_sandbox_: 'sandbox', sk_prod_: 'production' } as const;

/** Checks a Dojo API key's shape; returns the environment its prefix names. */
export function keyEnvironment(apiKey: string, field = 'apiKey'): 'sandbox' | 'production' {
  for (const [prefix, env] of Object.entries(KEY_PREFIXES)) {
    if (apiKey.startsWith(prefix) && apiKey.length > prefix.length + 4) return env;
  }
  throw DomainError.invalid([{ field, reason: 'must be a Dojo secret key starting with sk_sandbox_ or sk_prod_' }]);
}

/** Refuses unknown capability names; returns the set de-duplicated in the platform's stable order. */
export function normaliseCapabilities(caps: string[] | undefined, field = 'capabilities'): string[] {
  if (caps === undefined) return [...ALL_CAPABILITIES];
  const unknown = unknownCapabilities(caps);
  if (unknown.length) throw DomainError.invalid(unknown.map((c) => ({ field, reason: `unknown capability ${JSON.stringify(c)}` })));
  const set = new Set(caps);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Onboards one venue: stores it with its key encrypted, then announces it and schedules registration. */
export class OnboardLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(input: OnboardLocationInput): Promise<LocationView> {
    const environment = keyEnvironment(input.apiKey);
    const capabilities = normaliseCapabilities(input.capabilities);
    // The id is minted first: the ciphertext's associated data binds the key to this location.
    const id = randomUUID();
    let row;
    try {
      row = await this.d.prisma.location.create({
        data: {
          id,
          softwareHouseId: input.softwareHouseId,
          name: input.name,
          dojoAccountId: input.dojoAccountId,
          apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(input.apiKey, apiKeyAad(id))),
          apiKeyLast4: input.apiKey.slice(-4),
          environment,
          resellerId: input.resellerId ?? null,
          wsUrl: input.wsUrl ?? null,
          restUrl: input.restUrl ?? null,
          ...(input.currency ? { currency: input.currency } : {}),
          capabilities,
          registrationState: 'pending',
        },
        select: LOCATION_SELECT,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainError.conflict(`a location with dojoAccountId ${JSON.stringify(input.dojoAccountId)} exists`);
      if (isForeignKeyViolation(err)) throw DomainError.invalid([{ field: 'softwareHouseId', reason: 'no such software house' }]);
      throw err;
    }
    await this.d.publisher.publishChanged(row.id, row.configVersion);
    await this.d.registration.schedule(row.id);
    return toLocationView(row);
  }
}

export interface BulkRowOutcome {
  index: number;
  dojoAccountId?: string;
  ok: boolean;
  location?: LocationView;
  error?: { kind: string; message: string; fields: FieldError[] };
}

/** Onboards many venues; each row succeeds or fails on its own and the outcome of each is reported. */
export class BulkOnboardLocations {
  constructor(private readonly d: AdminDeps) {}

  async execute(rows: OnboardLocationInput[]): Promise<{ created: number; failed: number; results: BulkRowOutcome[] }> {
    const one = new OnboardLocation(this.d);
    const results: BulkRowOutcome[] = [];
    for (const [index, row] of rows.entries()) {
      try {
        results.push({ index, dojoAccountId: row.dojoAccountId, ok: true, location: await one.execute(row) });
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        results.push({ index, dojoAccountId: row.dojoAccountId, ok: false, error: { kind: err.kind, message: err.message, fields: err.fields } });
      }
    }
    const created = results.filter((r) => r.ok).length;
    return { created, failed: results.length - created, results };
  }
}

async function connectionsFor(d: AdminDeps, ids: string[]): Promise<Map<string, ConnectionView>> {
  const out = new Map<string, ConnectionView>();
  if (ids.length === 0) return out;
  try {
    const statuses = await d.connections.read(ids);
    for (const id of ids) out.set(id, statuses.get(id) ?? { state: 'unknown', reason: 'no gateway reported on this location' });
  } catch {
    for (const id of ids) out.set(id, { state: 'unknown', reason: 'connection status is not available' });
  }
  return out;
}

export interface ListLocationsQuery {
  limit: number;
  cursor?: string;
  softwareHouseId?: string;
  enabled?: boolean;
  registrationState?: 'pending' | 'registered' | 'failed';
  /** Connection state as the gateways report it (or 'unknown'). */
  connectionState?: string;
}

/** Pages through locations in id order; with a connection-state filter, scans until the page is full. */
export class ListLocations {
  constructor(private readonly d: AdminDeps) {}

  async execute(q: ListLocationsQuery): Promise<{ items: LocationView[]; nextCursor: string | null }> {
    const items: LocationView[] = [];
    let cursor = q.cursor;
    const batch = q.connectionState ? Math.max(q.limit, 100) : q.limit + 1;
    for (;;) {
      const rows = await this.d.prisma.location.findMany({
        where: {
          ...(cursor ? { id: { gt: cursor } } : {}),
          ...(q.softwareHouseId ? { softwareHouseId: q.softwareHouseId } : {}),
          ...(q.enabled !== undefined ? { enabled: q.enabled } : {}),
          ...(q.registrationState ? { registrationState: q.registrationState } : {}),
        },
        orderBy: { id: 'asc' },
        take: batch,
        select: LOCATION_SELECT,
      });
      const conns = await connectionsFor(this.d, rows.map((r) => r.id));
      for (const r of rows) {
        const c = conns.get(r.id)!;
        if (q.connectionState && c.state !== q.connectionState) {
          cursor = r.id;
          continue;
        }
        if (items.length === q.limit) return { items, nextCursor: items[items.length - 1].id };
        items.push(toLocationView(r, c));
        cursor = r.id;
      }
      if (rows.length < batch) return { items, nextCursor: null };
      if (!q.connectionState && items.length === q.limit) return { items, nextCursor: items[items.length - 1].id };
    }
  }
}

export class GetLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView> {
    const row = await this.d.prisma.location.findUnique({ where: { id }, select: LOCATION_SELECT });
    if (!row) throw DomainError.notFound('location', id);
    const conns = await connectionsFor(this.d, [id]);
    return toLocationView(row, conns.get(id));
  }
}

export interface UpdateLocationInput {
  name?: string;
  resellerId?: string | null;
  wsUrl?: string | null;
  restUrl?: string | null;
  currency?: string;
  capabilities?: string[];
  enabled?: boolean;
}

/**
 * Changes a location. Changes the gateway acts on (URLs, capabilities, enabled)
 * bump config_version and are published after the commit; a changed capability
 * set is registered with Dojo again.
 */
export class UpdateLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, input: UpdateLocationInput): Promise<LocationView> {
    const capabilities = input.capabilities === undefined ? undefined : normaliseCapabilities(input.capabilities);
    const result = await this.d.prisma.$transaction(async (tx) => {
      const cur = await tx.location.findUnique({ where: { id }, select: LOCATION_SELECT });
      if (!cur) throw DomainError.notFound('location', id);
      const capsChanged = capabilities !== undefined && !sameSet(capabilities, cur.capabilities);
      const gatewayChanged =
        capsChanged ||
        (input.wsUrl !== undefined && input.wsUrl !== cur.wsUrl) ||
        (input.restUrl !== undefined && input.restUrl !== cur.restUrl) ||
        (input.resellerId !== undefined && input.resellerId !== cur.resellerId) ||
        (input.enabled !== undefined && input.enabled !== cur.enabled);
      const row = await tx.location.update({
        where: { id },
        data: {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.resellerId !== undefined ? { resellerId: input.resellerId } : {}),
          ...(input.wsUrl !== undefined ? { wsUrl: input.wsUrl } : {}),
          ...(input.restUrl !== undefined ? { restUrl: input.restUrl } : {}),
          ...(input.currency !== undefined ? { currency: input.currency } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
          ...(capsChanged ? { capabilities, registrationState: 'pending', registrationError: null, registrationAttempts: 0 } : {}),
          ...(gatewayChanged ? { configVersion: { increment: 1 } } : {}),
        },
        select: LOCATION_SELECT,
      });
      return { row, capsChanged, gatewayChanged };
    });
    if (result.gatewayChanged) await this.d.publisher.publishChanged(id, result.row.configVersion);
    if (result.capsChanged) await this.d.registration.schedule(id, { now: true });
    return toLocationView(result.row);
  }
}

/** Enables or disables a location; the gateways hear of it at once. */
export class SetLocationEnabled {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, enabled: boolean): Promise<LocationView> {
    return new UpdateLocation(this.d).execute(id, { enabled });
  }
}

/** Replaces a location's Dojo API key (stored encrypted); the gateway reconnects with it at once. */
export class RotateLocationApiKey {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string, apiKey: string): Promise<LocationView> {
    const environment = keyEnvironment(apiKey);
    const row = await this.d.prisma.$transaction(async (tx) => {
      const cur = await tx.location.findUnique({ where: { id }, select: { id: true } });
      if (!cur) throw DomainError.notFound('location', id);
      return tx.location.update({
        where: { id },
        data: {
          apiKeyCiphertext: new Uint8Array(this.d.secretBox.encrypt(apiKey, apiKeyAad(id))),
          apiKeyLast4: apiKey.slice(-4),
          environment,
          configVersion: { increment: 1 },
        },
        select: LOCATION_SELECT,
      });
    });
    await this.d.publisher.publishChanged(id, row.configVersion);
    // A registration that failed (for instance on the old key) is tried again with the new one.
    if (row.registrationState !== 'registered') await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}

/** Deletes a location and everything it owns; the gateways drop its socket. */
export class DeleteLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<void> {
    const row = await this.d.prisma.location.findUnique({ where: { id }, select: { configVersion: true } });
    if (!row) throw DomainError.notFound('location', id);
    await this.d.prisma.location.deleteMany({ where: { id } });
    await this.d.publisher.publishChanged(id, row.configVersion + 1);
  }
}

/** Registers the location's current capability set with Dojo again, now. */
export class ResyncCapabilities {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView> {
    const row = await this.d.prisma.location.update({
      where: { id },
      data: { registrationState: 'pending', registrationError: null, registrationAttempts: 0 },
      select: LOCATION_SELECT,
    }).catch((err) => {
      if ((err as { code?: string }).code === 'P2025') throw DomainError.notFound('location', id);
      throw err;
    });
    await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}
