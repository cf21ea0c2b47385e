import { isCalendarDate } from '@app/config';
import { SandboxInputError } from '../accounts';

/**
 * Dojo's `version` header, required (a date, YYYY-MM-DD) on the payment-intent and webhook operations of
 * dojo-api-openapi.json: a missing or malformed one is a 400 naming the header.
 */
export function requireApiVersion(version: string | undefined): void {
  if (version === undefined || version === '') throw new SandboxInputError('the version header is required (a date, YYYY-MM-DD)', { version: ['is required'] });
  if (!isCalendarDate(version)) throw new SandboxInputError(`the version header must be a date as YYYY-MM-DD, not ${JSON.stringify(version.slice(0, 40))}`, { version: ['must be a date as YYYY-MM-DD'] });
}
