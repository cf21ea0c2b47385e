import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import bundle from './generated/epos-data.schemas.json';
import paymentIntentBundle from './generated/dojo-payment-intents.schemas.json';
import type { EposMethod } from './methods';
import { isEposMethod } from './methods';

export interface ValidationOk {
  ok: true;
}
export interface ValidationFailure {
  ok: false;
  /** JSON pointer-ish path of the offending field, e.g. "params.paidAmount.value". */
  field: string;
  reason: string;
}
export type ValidationResult = ValidationOk | ValidationFailure;

type Bundle = { methods: Record<string, { request: string; response: string }>; schemas: Record<string, unknown> };
const contracts = bundle as unknown as Bundle;

/** Dojo's contract schemas by name (the generated bundle's `schemas`), e.g. for OpenAPI components. */
export function contractSchemas(): Record<string, unknown> {
  return contracts.schemas;
}

/**
 * Validates JSON-RPC messages against the schemas derived from Dojo's AsyncAPI
 * contract (libs/contracts/src/generated). Compiled once per process.
 */
export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(this.ajv);
    // Dojo's `int64` is a JS-safe integer in practice; accept any integer.
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    this.ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
    this.ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    this.ajv.addSchema({ $id: 'epos', components: { schemas: withInt32Default(contracts.schemas) } });
  }

  private fn(schemaName: string): ValidateFunction {
    let f = this.cache.get(schemaName);
    if (!f) {
      f = this.ajv.compile({ $ref: `epos#/components/schemas/${schemaName}` });
      this.cache.set(schemaName, f);
    }
    return f;
  }

  schemaNames(method: EposMethod): { request: string; response: string } {
    const names = contracts.methods[method];
    // The bundle is generated from the same method list as EposMethod; a gap means a stale bundle.
    if (!names) throw new Error(`contract bundle has no schemas for ${method}; run npm run contracts:generate`);
    return names;
  }

  validateSchema(schemaName: string, value: unknown): ValidationResult {
    const f = this.fn(schemaName);
    if (f(value)) return { ok: true };
    return describe(f.errors ?? []);
  }

  validateRequest(method: string, message: unknown): ValidationResult {
    if (!isEposMethod(method)) return { ok: false, field: 'method', reason: `unknown method ${method}` };
    return this.validateSchema(this.schemaNames(method).request, message);
  }

  validateResponse(method: string, message: unknown): ValidationResult {
    if (!isEposMethod(method)) return { ok: false, field: 'method', reason: `unknown method ${method}` };
    const m = message as { error?: unknown };
    // Error responses are checked against the generic envelope (EPOSError), success ones against the method's schema.
    return this.validateSchema(m && m.error !== undefined ? 'JsonrpcResponseV1' : this.schemaNames(method).response, message);
  }
}

const rfc3339 = fullFormats['date-time'] as { validate: (s: string) => boolean };

/**
 * RFC 3339 as ajv-formats checks it, and also a time Postgres and JavaScript can both hold: year 0000 (which Postgres
 * refuses) and leap seconds (which Date cannot parse) are refused, and so is a time whose year in UTC is not 1-9999.
 * An offset moves the year: 9999-12-31T23:59:59-14:00 is in year 10000 in UTC, which toISOString() writes as
 * "+010000-..." (not an RFC 3339 date-time, so not one Dojo's contract allows when we send it back) and which
 * Postgres refuses in some casts; 0001-01-01T00:00:00+01:00 is in year 0.
 */
export function isStorableDateTime(s: string): boolean {
  if (!rfc3339.validate(s) || s.startsWith('0000')) return false;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return false;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/**
 * The contract's integers without a format (quantities, covers, percentages,
 * page limits) are stored as Postgres INTEGER: they are validated as int32, so
 * a larger one is InvalidRequest instead of failing in the database. Money
 * (format int64) is unchanged. Works on a copy.
 */
function withInt32Default(schemas: Record<string, unknown>): Record<string, unknown> {
  return editedCopy(schemas, (o) => {
    if (o.type === 'integer' && o.format === undefined) o.format = 'int32';
  });
}

/** A deep copy of `schemas` with `edit` applied to every object node in it (before its children are visited). */
function editedCopy(schemas: Record<string, unknown>, edit: (node: Record<string, unknown>) => void): Record<string, unknown> {
  const copy = structuredClone(schemas);
  const stack: unknown[] = [copy];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      edit(o);
      stack.push(...Object.values(o));
    }
  }
  return copy;
}

function describe(errors: ErrorObject[]): ValidationFailure {
  // With anyOf/oneOf, ajv reports the branch failures first; the deepest path is the most useful.
  const best = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  if (!best) return { ok: false, field: '(root)', reason: 'invalid' };
  let field = best.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (best.keyword === 'required') field = field ? `${field}.${best.params.missingProperty}` : String(best.params.missingProperty);
  if (best.keyword === 'additionalProperties') field = `${field ? field + '.' : ''}${best.params.additionalProperty}`;
  const reason =
    best.keyword === 'required'
      ? 'is required'
      : best.keyword === 'additionalProperties'
        ? 'is not allowed'
        : best.keyword === 'enum'
          ? `must be one of ${(best.params.allowedValues as unknown[]).join(', ')}`
          : best.keyword === 'format' && best.params.format === 'int32'
            ? `must be an integer from ${-(2 ** 31)} to ${2 ** 31 - 1}`
            : best.keyword === 'format' && best.params.format === 'int64'
              ? `must be an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`
              : best.keyword === 'format' && best.params.format === 'date-time'
                ? 'must be an RFC 3339 date-time (e.g. 2026-11-30T10:00:00Z) whose year in UTC is 1 to 9999, without a leap second'
          : (best.message ?? 'is invalid');
  return { ok: false, field: field || '(root)', reason };
}

let shared: ContractValidator | undefined;
/** A process-wide validator (compiling the schemas once). */
export function contractValidator(): ContractValidator {
  return (shared ??= new ContractValidator());
}

type PaymentIntentBundle = { requests: string[]; schemas: Record<string, unknown> };
const paymentIntentContracts = paymentIntentBundle as unknown as PaymentIntentBundle;

/** The payment-intent schemas of dojo-api-openapi.json that epos-relay sends (and the sandbox receives). */
export type PaymentIntentSchema = 'CreatePaymentIntentRequest' | 'CreateCaptureRequest' | 'SetTipsAmountRequest' | 'CreateRefundRequest' | 'PaymentIntent';

let paymentIntentAjv: { ajv: Ajv; cache: Map<string, ValidateFunction> } | undefined;

/**
 * Validates a payment-intent body against the schemas derived from Dojo's
 * dojo-api-openapi.json (libs/contracts/src/generated/dojo-payment-intents.schemas.json).
 */
export function validatePaymentIntentBody(schema: PaymentIntentSchema, value: unknown): ValidationResult {
  if (!paymentIntentAjv) {
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(ajv);
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    // .NET's TimeSpan as Dojo writes it: [d.]hh:mm:ss (autoExpireIn).
    ajv.addFormat('timespan', { type: 'string', validate: (s: string) => /^(\d+\.)?\d{2}:\d{2}:\d{2}$/.test(s) });
    // OpenAPI's `nullable: true` is not JSON Schema; ajv reads it only with the keyword declared.
    ajv.addSchema({ $id: 'dojo-api', components: { schemas: withNullable(paymentIntentContracts.schemas) } });
    paymentIntentAjv = { ajv, cache: new Map() };
  }
  let f = paymentIntentAjv.cache.get(schema);
  if (!f) {
    f = paymentIntentAjv.ajv.compile({ $ref: `dojo-api#/components/schemas/${schema}` });
    paymentIntentAjv.cache.set(schema, f);
  }
  if (f(value)) return { ok: true };
  return describe(f.errors ?? []);
}

/** OpenAPI 3.0 `nullable: true` as JSON Schema: null is allowed besides the declared type (works on a copy). */
function withNullable(schemas: Record<string, unknown>): Record<string, unknown> {
  return editedCopy(schemas, (o) => {
    if (o.nullable !== true) return;
    delete o.nullable;
    if (typeof o.type === 'string') o.type = [o.type, 'null'];
    else if (Array.isArray(o.oneOf)) o.oneOf = [...(o.oneOf as unknown[]), { type: 'null' }];
    if (Array.isArray(o.enum)) o.enum = [...(o.enum as unknown[]), null];
  });
}
