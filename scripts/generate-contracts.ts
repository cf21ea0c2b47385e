/**
 * Derives the platform's contract schemas from Dojo's published AsyncAPI file
 * (../shared/specs/epos-data-asyncapi.yml, or EPOS_RELAY_SPECS_DIR):
 *   libs/contracts/src/generated/epos-data.schemas.json  JSON Schemas per component plus the method table
 *   libs/contracts/src/generated/models.ts               TypeScript types for those schemas
 * Known quirks of the published file (see the specs README) are corrected here,
 * each one listed in QUIRKS so the correction is visible and tested.
 *
 * Usage: npm run contracts:generate   (test/unit/contracts-sync.test.ts fails when the output is stale)
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, specsDir } from '@app/infra';

type Json = Record<string, any>;

const DROP_KEYS = new Set(['x-stoplight', 'example', 'examples', 'x-examples']);

export const QUIRKS = [
  'JsonrpcResponseV1: `method` removed from required (JSON-RPC 2.0 responses carry no method)',
  'array schemas with minLength: read as minItems (Reservation.tableIds, CreatePartyRequest.tableIds, ...)',
  'JsonrpcResponseV1.error: accepts JSON-RPC `code`/`message` beside Dojo\'s EPOSError fields',
  'schemas with `properties` but no `type`: read as `type: object` (PartyDeposit: without it a deposit of [], "abc", 5 or true passed)',
];

function clean(node: any): any {
  if (Array.isArray(node)) return node.map(clean);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROP_KEYS.has(k)) continue;
    out[k] = clean(v);
  }
  if (out.type === 'array' && typeof out.minLength === 'number') {
    out.minItems = out.minLength;
    delete out.minLength;
  }
  // `required` and `properties` hold only for objects: without a type, any array, string, number or boolean fits.
  if (out.type === undefined && out.properties && typeof out.properties === 'object') out.type = 'object';
  return out;
}

export function deriveContracts(specText: string): { schemas: Json; methods: Json; sha256: string } {
  const doc = parse(specText) as Json;
  const schemas = clean(doc.components.schemas) as Json;
  const resp = schemas.JsonrpcResponseV1;
  resp.required = (resp.required as string[]).filter((r) => r !== 'method');
  const methods: Json = {};
  for (const [name, channel] of Object.entries<Json>(doc.channels)) {
    const ref = (op: Json) => String(op.message.payload.$ref).replace('#/components/schemas/', '');
    methods[name] = { request: ref(channel.subscribe), response: ref(channel.publish) };
  }
  return { schemas, methods, sha256: createHash('sha256').update(specText).digest('hex') };
}

/** The payment-intent bodies epos-relay sends to Dojo (and the sandbox checks), by schema name. */
export const PAYMENT_INTENT_SCHEMAS = ['CreatePaymentIntentRequest', 'CreateCaptureRequest', 'SetTipsAmountRequest', 'CreateRefundRequest', 'PaymentIntent'];

/**
 * The payment-intent schemas of dojo-api-openapi.json with every component
 * they reference (the closure), examples dropped.
 */
export function derivePaymentIntentSchemas(specText: string): { schemas: Json; sha256: string } {
  const doc = JSON.parse(specText) as Json;
  const all = doc.components.schemas as Json;
  const out: Json = {};
  const visit = (name: string) => {
    if (out[name] || !all[name]) return;
    out[name] = clean(all[name]);
    const refs = JSON.stringify(all[name]).matchAll(/#\/components\/schemas\/([A-Za-z0-9_]+)/g);
    for (const m of refs) visit(m[1]!);
  };
  for (const n of PAYMENT_INTENT_SCHEMAS) visit(n);
  const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
  return { schemas: sorted, sha256: createHash('sha256').update(specText).digest('hex') };
}

async function main() {
  const apiPath = join(specsDir(), 'dojo-api-openapi.json');
  const pi = derivePaymentIntentSchemas(readFileSync(apiPath, 'utf8'));
  writeFileSync(
    join(repoRoot(), 'libs/contracts/src/generated/dojo-payment-intents.schemas.json'),
    JSON.stringify({ source: { file: 'dojo-api-openapi.json', sha256: pi.sha256 }, requests: PAYMENT_INTENT_SCHEMAS, schemas: pi.schemas }, null, 1) + '\n',
  );

  const specPath = join(specsDir(), 'epos-data-asyncapi.yml');
  const text = readFileSync(specPath, 'utf8');
  const { schemas, methods, sha256 } = deriveContracts(text);
  const outDir = join(repoRoot(), 'libs/contracts/src/generated');
  const bundle = { source: { file: 'epos-data-asyncapi.yml', sha256 }, quirks: QUIRKS, methods, schemas };
  writeFileSync(join(outDir, 'epos-data.schemas.json'), JSON.stringify(bundle, null, 1) + '\n');

  const { compile } = await import('json-schema-to-typescript');
  const defs = JSON.parse(JSON.stringify(schemas).replaceAll('#/components/schemas/', '#/definitions/'));
  for (const [k, v] of Object.entries<Json>(defs)) v.title = k;
  const ts = await compile({ title: 'EposDataContracts', type: 'object', definitions: defs, additionalProperties: false } as any, 'EposDataContracts', {
    bannerComment:
      `/* Generated by scripts/generate-contracts.ts from Dojo's epos-data-asyncapi.yml (sha256 ${sha256.slice(0, 12)}). Do not edit. */`,
    unreachableDefinitions: true,
    additionalProperties: false,
    strictIndexSignatures: false,
    declareExternallyReferenced: true,
    format: false,
  });
  writeFileSync(join(outDir, 'models.ts'), ts);
  console.log(`wrote ${Object.keys(schemas).length} schemas and ${Object.keys(methods).length} methods from ${specPath}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
