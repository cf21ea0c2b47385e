/** Longest error text kept on a dead letter. */
export const DEAD_LETTER_ERROR_MAX = 1000;

const SECRETS: [RegExp, string][] = [
  // Dojo secret keys, wherever they appear.
  [/\bsk_(sandbox|prod)_[A-Za-z0-9_-]+/g, 'sk_$1_***'],
  // Authorization header values.
  [/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 ***'],
  // key=value / "key": "value" pairs naming a secret.
  [/((?:api[_-]?key|secret|token|password|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1***'],
];

/**
 * The text stored as a dead letter's last error: the error's message with
 * secrets redacted, NULs and lone surrogates dropped (Postgres refuses them),
 * truncated to DEAD_LETTER_ERROR_MAX characters.
 */
export function deadLetterErrorText(err: unknown): string {
  let text = err instanceof Error ? err.message || err.name : typeof err === 'string' ? err : String(err);
  for (const [re, to] of SECRETS) text = text.replace(re, to);
  text = text.replaceAll('\u0000', '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
  if (text.length > DEAD_LETTER_ERROR_MAX) text = `${text.slice(0, DEAD_LETTER_ERROR_MAX - 1)}…`;
  return text || 'unknown error';
}
