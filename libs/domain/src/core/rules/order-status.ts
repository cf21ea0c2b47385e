/**
 * Order statuses after which nothing can be paid, locked or cancelled. The one
 * definition: TypeScript checks use isClosedStatus, and SQL that must say the
 * same thing (a WHERE, the payable expression of a recompute) is generated
 * from CLOSED_ORDER_STATUSES by the orders repository.
 */
/** Every status an order can have (the database's OrderStatus enum). */
export const ORDER_STATUSES = ['New', 'Submitted', 'Confirmed', 'Accepted', 'Preparing', 'Prepared', 'Ready', 'Finalized', 'Canceled', 'Failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const CLOSED_ORDER_STATUSES = ['Canceled', 'Finalized', 'Failed'] as const satisfies readonly OrderStatus[];

const CLOSED: ReadonlySet<string> = new Set(CLOSED_ORDER_STATUSES);

export function isClosedStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && CLOSED.has(status);
}
