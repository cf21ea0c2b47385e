import { isUniqueViolation } from '../admin/errors';

/**
 * Runs a venue create-or-replace, and once more when it fails on the row's key: another write created the row after
 * this one found none (two PUTs of a new row at once), so the second run finds it and replaces it, as if it had come
 * second, under the same checks. A second failure is thrown.
 */
export async function againIfCreatedMeanwhile<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return write();
  }
}
