import type { ConnectPacSettings } from './counter';

/**
 * The protocols a location can speak towards Dojo's card machines, and what
 * each needs to connect. Shared by the admin API (validation), the gateway
 * (dialling) and the worker (which dialect answers). Facts:
 * ../shared/notes/protocols.md Part 1 (Tables API), Part 2 (Connect).
 *
 * - `epos-data`: Dojo's EPOS Data API (wss://eu.ws.dojo.tech/epos), the default.
 * - `dojo-tables`: Dojo's legacy Tables API, JSON-RPC with errors inside `result`.
 * - `connect-pat`: Paymentsense Connect's pay-at-table socket (the API key in the URL).
 * - `connect-pac`: Paymentsense Connect's pay-at-counter socket (the token in the URL): the venue's
 *   counter terminals, driven by its POS through the venue API (a location may also have a PAC link
 *   beside another protocol: counter_links).
 * Adding one is a new entry here, a new value in the locations_protocol_check constraint, a gateway
 * profile and a dialect.
 */
export const LOCATION_PROTOCOLS = ['epos-data', 'dojo-tables', 'connect-pat', 'connect-pac'] as const;
export type LocationProtocol = (typeof LOCATION_PROTOCOLS)[number];

export function isLocationProtocol(v: unknown): v is LocationProtocol {
  return typeof v === 'string' && (LOCATION_PROTOCOLS as readonly string[]).includes(v);
}

/**
 * The protocols whose location secret is a Dojo API key (sk_...), the credential Dojo's REST API takes: POS events,
 * payment intents, webhook subscriptions, capability registration. A Tables API key and a Connect token are other
 * credentials: they never go to Dojo's REST API, so those locations send no POS events and take no online payments.
 */
export const DOJO_REST_KEY_PROTOCOLS: readonly LocationProtocol[] = ['epos-data'];

/** Dojo's Tables API endpoints by environment (DojoTablesConnector.cs; PAT-legacy getting-started). */
export const DOJO_TABLES_URLS = {
  production: 'wss://api.dojo.tech/ws/v1/tables/epos',
  staging: 'wss://staging-api.dojo.dev/ws/v1/tables/epos',
} as const;

/** Non-secret credentials of a dojo-tables location (the API key is the location's encrypted secret). */
export interface DojoTablesSettings {
  /** The Basic-auth user name: `base64("<accountName>:<apiKey>")`. */
  accountName: string;
  environment: keyof typeof DOJO_TABLES_URLS;
  /** Refuse single-session requests without the session's waiter id (WAITER_INCORRECT_WAITER_ID) and filter lists by it. */
  enforceWaiterId: boolean;
}

/** Non-secret credentials of a connect-pat location (the token is the location's encrypted secret). */
export interface ConnectPatSettings {
  /** `<host-address>.connect.paymentsense.cloud` (one host per site). */
  hostAddress: string;
  /** Connect's `test` hosts (`<host>.test.connect.paymentsense.cloud`) or production. */
  environment: 'production' | 'test';
  installerId: string;
  /** Adds the bare `final-pos-receipt-request` flag to the URL: Connect then asks for the final POS receipt. */
  finalPosReceiptRequest: boolean;
}

export interface ProtocolSettingsOf {
  'epos-data': Record<string, never>;
  'dojo-tables': DojoTablesSettings;
  'connect-pat': ConnectPatSettings;
  'connect-pac': ConnectPacSettings;
}

/** `wss://<host>.[test.]connect.paymentsense.cloud/pat`, without its query. */
export function connectPatBaseUrl(s: Pick<ConnectPatSettings, 'hostAddress' | 'environment'>): string {
  return `wss://${s.hostAddress}.${s.environment === 'test' ? 'test.' : ''}connect.paymentsense.cloud/pat`;
}

/** Words that make a URL query parameter's name a secret's: `token`, `access_token`, `apiKey`, `X-Amz-Signature`, `sig`. */
const SECRET_PARAM_WORDS = new Set(['token', 'key', 'apikey', 'secret', 'password', 'passwd', 'auth', 'authorization', 'credential', 'credentials', 'signature', 'sig']);

/** Whether a query parameter's name looks like a secret's: any of its words (split at `-`, `_`, `.` and camelCase) is one. */
export function isSecretQueryParamName(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_PARAM_WORDS.has(w));
}

const REDACTED = '***';

/**
 * A URL with its secrets replaced by `***`: the values of secret query
 * parameters (isSecretQueryParamName, the rule by which the operator API
 * refuses such URLs; Connect's `token=<api key>`) and a password in the user
 * info.
 * Used by every log line, status record and error that may show a URL.
 * Text that does not parse as a URL goes through redactSecretsInText.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactSecretsInText(url);
  }
  if (u.password) u.password = REDACTED;
  let changed = false;
  for (const k of [...u.searchParams.keys()]) {
    if (isSecretQueryParamName(k)) {
      u.searchParams.set(k, REDACTED);
      changed = true;
    }
  }
  // URLSearchParams re-encodes `***` and turns a bare flag into `flag=`; rebuild the query by hand instead.
  if (!changed && !u.password) return url;
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1).split('#')[0]! : '';
  const redactedQuery = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && isSecretQueryParamName(decodeURIComponentSafe(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  const base = `${u.protocol}//${u.username ? `${u.username}${u.password ? `:${REDACTED}` : ''}@` : ''}${u.host}${u.pathname}`;
  return query ? `${base}?${redactedQuery}` : base;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Free text (an error message, a log line) with every `token=...`-style secret parameter value replaced by `***`. */
export function redactSecretsInText(text: string): string {
  return text.replace(/([?&;\s"']|^)(token|api[-_]?key|key|secret|password|access[-_]?token)=([^&\s"'#]+)/gi, (_m, pre: string, name: string) => `${pre}${name}=${REDACTED}`);
}
