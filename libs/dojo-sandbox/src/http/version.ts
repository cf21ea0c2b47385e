import { SandboxInputError } from '../accounts';

/** A calendar date as YYYY-MM-DD (OpenAPI `format: date`), the form of Dojo's `version` header. */
function isApiVersionDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/**
 * Dojo's `version` header, required (a date, YYYY-MM-DD) on the payment-intent and webhook operations of
 * dojo-api-openapi.json: a missing or malformed one is a 400 naming the header.
 */
export function requireApiVersion(version: string | undefined): void {
  if (version === undefined || version === '') throw new SandboxInputError('the version header is required (a date, YYYY-MM-DD)', { version: ['is required'] });
  if (!isApiVersionDate(version)) throw new SandboxInputError(`the version header must be a date as YYYY-MM-DD, not ${JSON.stringify(version.slice(0, 40))}`, { version: ['must be a date as YYYY-MM-DD'] });
}
