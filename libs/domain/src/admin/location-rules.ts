import type { ConnectPacSettings, ConnectPatSettings, DojoTablesSettings, LocationProtocol, ProtocolSettingsOf } from '@app/contracts';
import { ALL_CAPABILITIES, COUNTER_SIGNATURE_WAIT_DEFAULT_MS, COUNTER_SIGNATURE_WAIT_MAX_MS, DOJO_REST_KEY_PROTOCOLS, isSecretQueryParamName, unknownCapabilities } from '@app/contracts';
import type { FieldError } from './errors';
import { DomainError } from './errors';

/**
 * A Dojo secret key: its prefix, then at least 5 printable ASCII characters. The key travels as-is in an HTTP header
 * (`Authorization: Basic <key>`), which Node refuses to send with a control character, a space or anything outside
 * Latin-1 (ERR_INVALID_CHAR): a pasted zero-width space would leave the venue never connecting.
 */
const DOJO_KEY = /^sk_(sandbox|prod)_[\x21-\x7e]{5,}$/;

/** Checks a Dojo API key's shape; returns the environment its prefix names. */
export function keyEnvironment(apiKey: string, field = 'apiKey'): 'sandbox' | 'production' {
  const m = DOJO_KEY.exec(apiKey);
  if (m) return m[1] === 'prod' ? 'production' : 'sandbox';
  throw DomainError.invalid([{ field, reason: 'must be a Dojo secret key: sk_sandbox_ or sk_prod_ then at least 5 printable ASCII characters, no spaces' }]);
}

/** Refuses unknown capability names; returns the set de-duplicated in the platform's stable order. */
export function normaliseCapabilities(caps: string[] | undefined, field = 'capabilities'): string[] {
  if (caps === undefined) return [...ALL_CAPABILITIES];
  const unknown = unknownCapabilities(caps);
  if (unknown.length) throw DomainError.invalid(unknown.map((c) => ({ field, reason: `unknown capability ${JSON.stringify(c)}` })));
  const set = new Set(caps);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}

/** What an operator sends for a protocol's credentials (settings objects as the API names them). */
export interface ProtocolCredentialsInput {
  protocol?: LocationProtocol;
  /** The protocol's secret: Dojo API key (epos-data, dojo-tables) or Connect token (connect-pat). */
  apiKey: string;
  dojoAccountId: string;
  dojoTables?: Partial<DojoTablesSettings> | null;
  connectPat?: Partial<ConnectPatSettings> | null;
  connectPac?: Partial<ConnectPacSettings> | null;
}

/** A protocol's credentials, checked and completed with defaults: what is stored. */
export interface CheckedProtocolCredentials {
  protocol: LocationProtocol;
  settings: ProtocolSettingsOf[LocationProtocol];
  environment: 'sandbox' | 'production';
}

/** The field of ProtocolCredentialsInput that carries a protocol's settings (none for epos-data). */
const SETTINGS_FIELD: Record<LocationProtocol, 'dojoTables' | 'connectPat' | 'connectPac' | undefined> = {
  'epos-data': undefined,
  'dojo-tables': 'dojoTables',
  'connect-pat': 'connectPat',
  'connect-pac': 'connectPac',
};

/**
 * The settings part of ProtocolCredentialsInput for a location that keeps its protocol: the settings `given` for it
 * over the stored ones, field by field. A field left out (or the settings object left out, or null) keeps its stored
 * value, as a key rotation keeps them all: changing one setting never resets the others to their defaults (a staging
 * Tables API venue given `enforceWaiterId` stays on staging). The result passes checkProtocolCredentials like any input.
 */
export function settingsKept(
  protocol: LocationProtocol,
  stored: unknown,
  given: Pick<ProtocolCredentialsInput, 'dojoTables' | 'connectPat' | 'connectPac'> = {},
): Pick<ProtocolCredentialsInput, 'dojoTables' | 'connectPat' | 'connectPac'> {
  const field = SETTINGS_FIELD[protocol];
  if (!field) return {};
  const base = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  const changes = Object.entries(given[field] ?? {}).filter(([, v]) => v !== undefined);
  return { [field]: { ...base, ...Object.fromEntries(changes) } };
}

const PRINTABLE_SECRET = /^[\x21-\x7e]{8,200}$/;
const URL_SAFE_SECRET = /^[A-Za-z0-9._~-]{8,200}$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/**
 * Checks the credentials of a location's protocol, with one field error per
 * problem (all of them at once), and returns what to store: the protocol's
 * settings with defaults filled in and the environment its key or settings
 * name. The settings object of another protocol is refused, so a typo in
 * `protocol` cannot store credentials nobody reads.
 */
export function checkProtocolCredentials(input: ProtocolCredentialsInput): CheckedProtocolCredentials {
  const protocol = input.protocol ?? 'epos-data';
  const errors: { field: string; reason: string }[] = [];
  const refuseOther = (field: 'dojoTables' | 'connectPat', owner: LocationProtocol) => {
    if (input[field] != null && protocol !== owner) errors.push({ field, reason: `only for protocol ${owner}` });
  };
  refuseOther('dojoTables', 'dojo-tables');
  refuseOther('connectPat', 'connect-pat');
  if (input.connectPac != null && protocol !== 'connect-pac') errors.push({ field: 'connectPac', reason: 'only for protocol connect-pac' });
  let result: CheckedProtocolCredentials | undefined;
  if (protocol === 'epos-data') {
    let environment: 'sandbox' | 'production' = 'sandbox';
    try {
      environment = keyEnvironment(input.apiKey);
    } catch (err) {
      errors.push(...(err as DomainError).fields);
    }
    result = { protocol, settings: {}, environment };
  } else if (protocol === 'dojo-tables') {
    const t = input.dojoTables ?? {};
    const accountName = t.accountName ?? input.dojoAccountId;
    if (!PRINTABLE_SECRET.test(input.apiKey)) errors.push({ field: 'apiKey', reason: 'must be the Tables API key: 8-200 printable ASCII characters, no spaces' });
    if (!/^[\x21-\x7e]{1,100}$/.test(accountName) || accountName.includes(':')) {
      errors.push({ field: t.accountName === undefined ? 'dojoAccountId' : 'dojoTables.accountName', reason: 'must be 1-100 printable ASCII characters without spaces or ":" (it is the Basic-auth user name)' });
    }
    const environment = t.environment ?? 'production';
    result = { protocol, settings: { accountName, environment, enforceWaiterId: t.enforceWaiterId ?? false }, environment: environment === 'staging' ? 'sandbox' : 'production' };
  } else if (protocol === 'connect-pac') {
    if (!URL_SAFE_SECRET.test(input.apiKey)) errors.push({ field: 'apiKey', reason: 'must be the Connect API key (token): 8-200 of A-Z a-z 0-9 . _ ~ -' });
    const checked = checkConnectPacSettings(input.connectPac, 'connectPac', errors);
    result = { protocol, settings: checked, environment: checked.environment === 'test' ? 'sandbox' : 'production' };
  } else {
    const c = input.connectPat;
    if (!URL_SAFE_SECRET.test(input.apiKey)) errors.push({ field: 'apiKey', reason: 'must be the Connect API key (token): 8-200 of A-Z a-z 0-9 . _ ~ -' });
    if (!c) {
      errors.push({ field: 'connectPat', reason: 'is required for protocol connect-pat (hostAddress, installerId)' });
    } else {
      if (!c.hostAddress || !DNS_LABEL.test(c.hostAddress)) errors.push({ field: 'connectPat.hostAddress', reason: 'must be the host address: one DNS label (letters, digits, hyphens)' });
      if (!c.installerId || !/^[\x21-\x7e]{1,100}$/.test(c.installerId)) errors.push({ field: 'connectPat.installerId', reason: 'must be 1-100 printable ASCII characters without spaces' });
    }
    const environment = c?.environment ?? 'production';
    result = {
      protocol,
      settings: { hostAddress: (c?.hostAddress ?? '').toLowerCase(), environment, installerId: c?.installerId ?? '', finalPosReceiptRequest: c?.finalPosReceiptRequest ?? false },
      environment: environment === 'test' ? 'sandbox' : 'production',
    };
  }
  if (errors.length) throw DomainError.invalid(errors);
  return result;
}

/**
 * Checks Connect pay-at-counter settings (a connect-pac location's, or a
 * counter link's) into `errors` (field names under `prefix`) and returns them
 * with defaults: environment production, signatureDefault decline,
 * signatureWaitMs 30 s (at most COUNTER_SIGNATURE_WAIT_MAX_MS, below Connect's own window).
 */
export function checkConnectPacSettings(c: Partial<ConnectPacSettings> | null | undefined, prefix: string, errors: { field: string; reason: string }[]): ConnectPacSettings {
  if (!c) {
    errors.push({ field: prefix, reason: 'is required for pay at counter (hostAddress, installerId)' });
    c = {};
  } else {
    if (!c.hostAddress || !DNS_LABEL.test(c.hostAddress)) errors.push({ field: `${prefix}.hostAddress`, reason: 'must be the host address: one DNS label (letters, digits, hyphens)' });
    if (!c.installerId || !/^[\x21-\x7e]{1,100}$/.test(c.installerId)) errors.push({ field: `${prefix}.installerId`, reason: 'must be 1-100 printable ASCII characters without spaces' });
    if (c.environment !== undefined && c.environment !== 'production' && c.environment !== 'test') errors.push({ field: `${prefix}.environment`, reason: 'must be production or test' });
    if (c.signatureDefault !== undefined && c.signatureDefault !== 'accept' && c.signatureDefault !== 'decline') errors.push({ field: `${prefix}.signatureDefault`, reason: 'must be accept or decline' });
    const w = c.signatureWaitMs;
    if (w !== undefined && (!Number.isInteger(w) || w < 0 || w > COUNTER_SIGNATURE_WAIT_MAX_MS)) {
      errors.push({ field: `${prefix}.signatureWaitMs`, reason: `must be 0 to ${COUNTER_SIGNATURE_WAIT_MAX_MS} ms (Connect decides by itself after its own window)` });
    }
  }
  return {
    hostAddress: (c.hostAddress ?? '').toLowerCase(),
    environment: c.environment ?? 'production',
    installerId: c.installerId ?? '',
    signatureDefault: c.signatureDefault ?? 'decline',
    signatureWaitMs: c.signatureWaitMs ?? COUNTER_SIGNATURE_WAIT_DEFAULT_MS,
  };
}

/**
 * Why a URL a location or counter link dials must not be stored, or undefined when it may: a user name or password
 * before the host, or a query parameter whose name looks like a secret's. Such URLs would be stored in clear (only the
 * apiKey or token is encrypted) and travel in logs of proxies; the secret belongs in apiKey (or the link's token).
 */
export function urlCredentialProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (u.username || u.password) return 'must not carry credentials before the host (user:password@): put the secret in apiKey (a counter link: token), which is stored encrypted';
  const secret = [...new Set(u.searchParams.keys())].filter(isSecretQueryParamName);
  if (secret.length) {
    return `must not carry credentials in its query (${secret.join(', ')}): put the secret in apiKey (a counter link: token), which is stored encrypted`;
  }
  return undefined;
}

/**
 * Why a URL may not carry a secret of `environment` (undefined when it may): a production secret (an sk_prod_ key, a
 * production Tables or Connect credential) is sent over it (a header, or the query that is added), so it must use TLS
 * (wss:, https:); a sandbox's may be ws: or http: (the local sandbox, tests).
 */
export function urlTlsProblem(url: string, environment: 'sandbox' | 'production'): string | undefined {
  if (environment !== 'production') return undefined;
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    return 'must be a URL';
  }
  if (scheme !== 'ws:' && scheme !== 'http:') return undefined;
  return `must use TLS (${scheme === 'ws:' ? 'wss:' : 'https:'}) for a production location, whose secret is sent over it; ${scheme} is for a sandbox only`;
}

/**
 * The URLs a location (or its counter link) is given, checked for the environment its secret belongs to: none may
 * carry credentials (urlCredentialProblem), and a production one must use TLS (urlTlsProblem). One field error per URL
 * refused; empty when all may be stored. Null and undefined URLs (none, or unchanged) are not checked.
 */
export function locationUrlProblems(urls: Record<string, string | null | undefined>, environment: 'sandbox' | 'production'): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, url] of Object.entries(urls)) {
    if (url == null) continue;
    const problem = urlCredentialProblem(url) ?? urlTlsProblem(url, environment);
    if (problem) errors.push({ field, reason: problem });
  }
  return errors;
}

/**
 * A location's stored URLs that a change making it (or keeping it) production could not keep: a `ws:` or `http:` one
 * (urlTlsProblem), with the field to change first. Key rotation and a protocol switch use it.
 */
export function keptUrlTlsProblems(stored: { wsUrl: string | null; restUrl: string | null }, environment: 'sandbox' | 'production'): FieldError[] {
  return (['wsUrl', 'restUrl'] as const).flatMap((field) => {
    const url = stored[field];
    const problem = url ? urlTlsProblem(url, environment) : undefined;
    return problem ? [{ field, reason: `the location's ${field} ${problem}: change it first (PATCH /v1/locations/{id})` }] : [];
  });
}

/** A location's own URLs: null is the connection profile's default (wsUrl) or DOJO_API_URL (restUrl). */
export interface LocationUrls {
  wsUrl: string | null;
  restUrl: string | null;
}

/**
 * The URLs a location has after PUT /v1/locations/{id}/protocol, and the field errors that refuse the change. A URL
 * given is taken (null: back to the default); one left out is kept while the protocol stays, and cleared by a switch:
 * every profile dials the location's wsUrl rather than its own default, so a kept one would send the new protocol's
 * secret to the old protocol's endpoint (a Connect token as `?token=` to Dojo's EPOS socket, a Dojo key to a Connect
 * host). restUrl is Dojo's REST API, which only an epos-data key calls (usesDojoRestKey): another protocol is refused
 * one. URLs given follow locationUrlProblems; URLs kept must use TLS if the location is (or becomes) production.
 */
export function urlsAfterProtocolSet(
  stored: LocationUrls,
  given: { wsUrl?: string | null; restUrl?: string | null },
  change: { same: boolean; protocol: LocationProtocol; environment: 'sandbox' | 'production' },
): { urls: LocationUrls; errors: FieldError[] } {
  const pick = (field: keyof LocationUrls): string | null => (given[field] !== undefined ? given[field] : change.same ? stored[field] : null);
  const urls = { wsUrl: pick('wsUrl'), restUrl: pick('restUrl') };
  const errors = locationUrlProblems({ wsUrl: given.wsUrl, restUrl: given.restUrl }, change.environment);
  if (given.restUrl != null && !usesDojoRestKey(change.protocol)) {
    errors.push({ field: 'restUrl', reason: `only for protocol epos-data (Dojo's REST API, called with its Dojo API key); ${change.protocol} has none` });
  }
  const kept = { wsUrl: given.wsUrl === undefined ? urls.wsUrl : null, restUrl: given.restUrl === undefined ? urls.restUrl : null };
  errors.push(...keptUrlTlsProblems(kept, change.environment));
  return { urls, errors };
}

/** Capability registration with Dojo (PUT /epos/integrations/ws) exists for the EPOS Data API only. */
export function registersCapabilities(protocol: string): boolean {
  return protocol === 'epos-data';
}

/**
 * Whether the location's secret is a Dojo REST API key (sk_...), the one Dojo's REST API (webhook subscriptions)
 * takes. Only epos-data's is: a Tables API key is another credential, and a Connect token must never reach Dojo.
 */
export function usesDojoRestKey(protocol: string): boolean {
  return (DOJO_REST_KEY_PROTOCOLS as readonly string[]).includes(protocol);
}
