import { Body, Controller, Get, Header, HttpCode, HttpException, Inject, Param, Post } from '@nestjs/common';
import { SandboxInputError } from '../accounts';
import type { DojoSandbox } from '../dojo-sandbox';
import { FlowDescription, FlowResult } from '../types';
import { errorBody } from './errors';
import { SANDBOX } from './token';

/** The EPOS tester tool's flows API: list, start, poll. */
@Controller('flows')
export class FlowsController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  @Get()
  list(): FlowDescription[] {
    return this.sim.flows.describe();
  }

  /** Returns the new flow's UUID (a JSON string). */
  @Post()
  @HttpCode(200)
  @Header('content-type', 'application/json')
  start(@Body() body: unknown): string {
    const b = body as { flow?: unknown; params?: unknown };
    if (!b || typeof b.flow !== 'string') throw new SandboxInputError('flow is required', { flow: ['is required'] });
    const params = b.params === undefined ? {} : b.params;
    if (!params || typeof params !== 'object' || Array.isArray(params)) throw new SandboxInputError('params must be an object', { params: ['must be an object'] });
    return JSON.stringify(this.sim.startFlow(b.flow, params as Record<string, unknown>));
  }

  @Get(':flowId')
  get(@Param('flowId') flowId: string): FlowResult {
    const r = this.sim.getFlow(flowId);
    if (!r) throw new HttpException(errorBody(404, 'Not Found', `no flow ${flowId}`), 404);
    return r;
  }
}
