import { FlowParam } from '../types';
import { FlowContext } from './flow-context';

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
