import type { FlowParam } from '../types';
import type { FlowContext } from './flow-context';

/** A scripted flow Dojo runs against an EPOS (modelled on Dojo's EPOS tester tool). */
export interface FlowDefinition {
  name: string;
  description: string;
  params: FlowParam[];
  /** Header values Dojo's product would send (params.headers). */
  headers: Record<string, string>;
  run(ctx: FlowContext, params: Record<string, unknown>): Promise<void>;
}

export const ACCOUNT_PARAM: FlowParam = { name: 'accountId', type: 'string', required: true, description: 'Dojo account (location) to run the flow against' };

/** A param as text (the engine has already checked and coerced it), or undefined when not given. */
export function textParam(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}
