/**
 * A use-case or rule refusing a command, in venue terms and free of any
 * dialect: each dialect maps the kind (and the message) to its own error
 * codes in one function (EPOS Data: dialects/epos-data/errors.ts
 * `eposErrorOf`). The message is written for the integrator reading the
 * answer and is sent as is by the dialects that carry free text.
 */
export type RefusalKind =
  /** The object the command names does not exist at this location. */
  | 'not_found'
  /** The command is valid but the object's state does not allow it (closed order, lock held by another, payment mismatch). */
  | 'conflict'
  /** The command itself is not acceptable (bad amounts, times, references). */
  | 'invalid';

export class DomainRefusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
    /** The command's field the refusal is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainRefusal';
  }

  /** `<what> "<id>" was not found at this location`. */
  static notFound(what: string, id: string): DomainRefusal {
    return new DomainRefusal('not_found', `${what} ${JSON.stringify(id)} was not found at this location`);
  }
  static conflict(message: string): DomainRefusal {
    return new DomainRefusal('conflict', message);
  }
  static invalid(message: string, field?: string): DomainRefusal {
    return new DomainRefusal('invalid', message, field);
  }
}
