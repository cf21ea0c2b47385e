import { z } from 'zod';
import { ALL_CAPABILITIES, LOCATION_PROTOCOLS } from '@app/contracts';
import { urlCredentialProblem } from '@app/domain/admin';
import { oneOf } from '../shared/validation';

const text = (max = 200) => z.string().trim().min(1).max(max);
/** No credentials in a URL (it is stored in clear): the domain's rule, here so that every route that takes one refuses them. */
const noCredentials = (url: string, ctx: z.RefinementCtx) => {
  const problem = urlCredentialProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};
const URL_RULES = 'No user:password@ and no secret-looking query parameter (token, key, secret, password, auth, signature, ...): the secret goes in apiKey. A production location needs TLS.';
const httpUrl = z.url({ protocol: /^https?$/ }).superRefine(noCredentials).describe(`https:// (http:// for a sandbox location). ${URL_RULES}`);
const wsUrl = z.url({ protocol: /^wss?$/ }).superRefine(noCredentials).describe(`wss:// (ws:// for a sandbox location). ${URL_RULES}`);
/** The protocol's secret; its shape is checked by the protocol's rules (location-rules checkProtocolCredentials). */
const apiKey = z
  .string()
  .min(1)
  .max(500)
  .describe('epos-data: the Dojo secret key (sk_sandbox_... / sk_prod_...); dojo-tables: the Tables API key; connect-pat and connect-pac: the Connect API key (token)');
const protocol = oneOf(LOCATION_PROTOCOLS).describe('epos-data (default), dojo-tables, connect-pat or connect-pac');
const dojoTables = z
  .strictObject({
    accountName: text(100).optional().describe('Basic-auth user name (the account name); dojoAccountId when omitted'),
    environment: oneOf(['production', 'staging']).optional().describe('Default URL: wss://api.dojo.tech/ws/v1/tables/epos or the staging one; wsUrl overrides it'),
    enforceWaiterId: z.boolean().optional().describe('Refuse requests without the session waiter id (WAITER_INCORRECT_WAITER_ID); default false'),
  })
  .describe('dojo-tables credentials besides the API key');
const connectPat = z
  .strictObject({
    hostAddress: text(63).describe('<host-address>.connect.paymentsense.cloud'),
    environment: oneOf(['production', 'test']).optional().describe('test: <host>.test.connect.paymentsense.cloud'),
    installerId: text(100),
    finalPosReceiptRequest: z.boolean().optional().describe('Ask Connect for the final POS receipt (the bare final-pos-receipt-request flag)'),
  })
  .describe('connect-pat credentials besides the token (apiKey); the software-house-id is the software house\'s');
/** Connect pay-at-counter settings (a connect-pac location's, or a counter link's beside another protocol). */
const pacSettings = {
  hostAddress: text(63).describe('<host-address>.connect.paymentsense.cloud'),
  environment: oneOf(['production', 'test']).optional().describe('test: <host>.test.connect.paymentsense.cloud; default production'),
  installerId: text(100),
  signatureDefault: oneOf(['accept', 'decline']).optional().describe("Applied to a signature verification request when no POS listens or answers in time; default decline"),
  signatureWaitMs: z.number().int().min(0).max(70_000).optional().describe('How long a listening POS has to answer a signature request (ms); default 30000'),
};
const connectPac = z.strictObject(pacSettings).describe("connect-pac credentials besides the token (apiKey); the software-house-id is the software house's");

/** PUT /v1/locations/{id}/counter-link: a PAC link beside the location's own protocol. */
export const CounterLinkSet = z.strictObject({
  ...pacSettings,
  token: z.string().min(1).max(500).optional().describe("Connect's API key (token) of the site; required when the location has no counter link yet"),
  wsUrl: wsUrl.nullable().optional().describe('Replaces wss://<host>.connect.paymentsense.cloud/pac (the sandbox); the query (with the token) is always added. wss:// unless environment is test; no credentials in it'),
  enabled: z.boolean().optional(),
});

const capabilities = z
  .array(z.string())
  .refine((cs) => cs.every((c) => ALL_CAPABILITIES.includes(c)), { message: `unknown capability; known: ${ALL_CAPABILITIES.join(', ')}` });

export const SoftwareHouseCreate = z.strictObject({
  name: text(),
  dojoSoftwareHouseId: text(100),
  resellerId: text(100).nullable().optional(),
});
export const SoftwareHouseUpdate = SoftwareHouseCreate.partial();

export const LocationCreate = z.strictObject({
  name: text(),
  softwareHouseId: z.uuid(),
  dojoAccountId: text(100),
  apiKey,
  resellerId: text(100).nullable().optional(),
  wsUrl: wsUrl.nullable().optional(),
  restUrl: httpUrl.nullable().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').optional(),
  capabilities: capabilities.optional().describe('Capability names to register with Dojo; all the platform serves when omitted.'),
  protocol: protocol.optional(),
  dojoTables: dojoTables.nullable().optional(),
  connectPat: connectPat.nullable().optional(),
  connectPac: connectPac.nullable().optional(),
});

export const LocationProtocolSet = z.strictObject({
  protocol,
  apiKey: apiKey.optional().describe("The new protocol's secret; may be omitted when only the settings of the current protocol change"),
  dojoTables: dojoTables.nullable().optional().describe('A switch: the settings (defaults for what is left out). The same protocol: only the fields given change'),
  connectPat: connectPat.partial().nullable().optional().describe('A switch: the settings (hostAddress and installerId required). The same protocol: only the fields given change'),
  connectPac: connectPac.partial().nullable().optional().describe('A switch: the settings (hostAddress and installerId required). The same protocol: only the fields given change'),
  wsUrl: wsUrl
    .nullable()
    .optional()
    .describe("The socket the protocol dials; null: its default. Left out, a switch clears the stored one (the old protocol's endpoint must not get the new secret) and the same protocol keeps it. wss:// (ws:// for a sandbox location); no credentials in it"),
  restUrl: httpUrl
    .nullable()
    .optional()
    .describe("Dojo's REST API, epos-data only; null: DOJO_API_URL. Left out as wsUrl is. https:// (http:// for a sandbox location); no credentials in it"),
});

export const LocationBulkCreate = z.strictObject({ locations: z.array(z.unknown()).min(1).max(1000) });

export const LocationUpdate = z.strictObject({
  name: text().optional(),
  resellerId: text(100).nullable().optional(),
  wsUrl: wsUrl.nullable().optional(),
  restUrl: httpUrl.nullable().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  capabilities: capabilities.optional(),
  enabled: z.boolean().optional(),
});

export const ApiKeyRotate = z.strictObject({ apiKey });

export const WebhookSecretCreate = z.strictObject({
  secret: z.string().min(16).max(500).optional().describe('The signing secret; generated (and shown once) when omitted.'),
  active: z.boolean().optional(),
});

export const WebhookSubscribe = z.strictObject({
  url: z.url({ protocol: /^https$/ }).optional().describe('Delivery URL; WEBHOOK_PUBLIC_URL when omitted.'),
  events: z.array(z.string().min(1)).min(1).optional(),
});

export const VenueTokenCreate = z.strictObject({ name: text(100) });

/** Query of every operator list route: a page of `limit` rows after `cursor` (the previous page's nextCursor). */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.uuid().optional(),
});

export { LOCATION_PROTOCOLS };
export const LOCATION_REGISTRATION_STATES = ['pending', 'registered', 'failed', 'not_required'] as const;
export const LOCATION_CONNECTION_STATES = ['connecting', 'open', 'backing_off', 'auth_failed', 'disabled', 'unowned', 'unknown'] as const;

export const LocationListQuery = ListQuery.extend({
  softwareHouseId: z.uuid().optional(),
  dojoAccountId: text(100).optional(),
  enabled: oneOf(['true', 'false']).transform((v) => v === 'true').optional(),
  protocol: oneOf(LOCATION_PROTOCOLS).optional(),
  registrationState: oneOf(LOCATION_REGISTRATION_STATES).optional(),
  connectionState: oneOf(LOCATION_CONNECTION_STATES).optional(),
});

/** OpenAPI shape of a page of locations. */
export const LOCATION_PAGE_SCHEMA = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: { type: 'object', description: 'A location with its registration and live connection status' } },
    nextCursor: { type: 'string', nullable: true, description: 'Pass as cursor for the next page; null on the last page' },
  },
};

/** Kinds of dead letters (GET /v1/dead-letters?kind=). */
export const DEAD_LETTER_KIND_VALUES = ['dojo-event', 'pos-event', 'registration'] as const;

const isoInstant = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-11-30T10:00:00Z' })
  .transform((s) => new Date(s));

export const DeadLetterListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(500).optional(),
  locationId: z.uuid().optional(),
  kind: oneOf(DEAD_LETTER_KIND_VALUES).optional(),
  since: isoInstant.optional(),
});

export const DeadLetterReplayFilter = z.strictObject({
  locationId: z.uuid().optional(),
  kind: oneOf(DEAD_LETTER_KIND_VALUES).optional(),
  since: isoInstant.optional(),
  all: z.literal(true, { error: 'must be true' }).optional().describe('true, alone: replay every dead letter of every location'),
});

export const DeadLetterDiscard = z.strictObject({
  reason: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
});

/** OpenAPI shape of a DeadLetter. */
export const DEAD_LETTER_SCHEMA = {
  type: 'object',
  required: ['id', 'kind', 'locationId', 'subject', 'attempts', 'lastError', 'deadAt', 'createdAt'],
  properties: {
    id: { type: 'string', description: '"<kind>:<row id>", e.g. dojo-event:<uuid>, pos-event:<number>, registration:<location id>' },
    kind: { type: 'string', enum: [...DEAD_LETTER_KIND_VALUES] },
    locationId: { type: 'string', format: 'uuid' },
    subject: { type: 'string', description: 'The Dojo event id, "<entityType> <entityId>" for a POS event, or "capabilities"' },
    attempts: { type: 'integer' },
    lastError: { type: 'string', description: 'The last failure (truncated, secrets redacted)' },
    deadAt: { type: 'string', format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
