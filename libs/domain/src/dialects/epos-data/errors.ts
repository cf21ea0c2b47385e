import { EposError } from '@app/contracts';
import type { RefusalKind } from '../../core/refusal';
import { DomainRefusal } from '../../core/refusal';

const ERROR_TYPE = { not_found: 'NotFound', conflict: 'Conflict', invalid: 'InvalidRequest' } as const satisfies Record<RefusalKind, string>;

/**
 * The EPOS Data answer to a refusal of the core: its kind to the errorType
 * (NotFound, Conflict, InvalidRequest), its message as the debugMessage. An
 * EposError (a refusal worded by this dialect's mapping) is already one.
 * Anything else is not a refusal: undefined.
 */
export function eposErrorOf(err: unknown): EposError | undefined {
  if (err instanceof EposError) return err;
  if (err instanceof DomainRefusal) return new EposError(ERROR_TYPE[err.kind], err.message);
  return undefined;
}
