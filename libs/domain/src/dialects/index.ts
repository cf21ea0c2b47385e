import type { Dialect } from '../rpc/dialect';
import { CONNECT_PAT } from './connect-pat/dialect';
import { EPOS_DATA } from './epos-data/dialect';

/** Every wire dialect the workers answer, by name (RpcJob.dialect). A new dialect is one more entry. */
export const DIALECTS: readonly Dialect<unknown, unknown>[] = [EPOS_DATA, CONNECT_PAT];
