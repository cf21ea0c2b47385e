/**
 * Order statuses after which nothing can be paid, locked or cancelled. The one
 * definition: TypeScript checks use isClosedStatus, and SQL that must say the
 * same thing (a WHERE, the payable expression of a recompute) is generated
 * from CLOSED_ORDER_STATUSES by the orders repository.
 */
export const CLOSED_ORDER_STATUSES = ['Canceled', 'Finalized', 'Failed'] as const;

const CLOSED: ReadonlySet<string> = new Set(CLOSED_ORDER_STATUSES);

export function isClosedStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && CLOSED.has(status);
}
