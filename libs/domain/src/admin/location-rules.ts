import { ALL_CAPABILITIES, unknownCapabilities } from '@app/contracts';
import { DomainError } from './errors';

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
