import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@pay/auth';
import type { Telemetry } from '@pay/observability';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TELEMETRY } from '../service/tokens';

/** Prometheus scrapes the OpenTelemetry metrics here. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(TELEMETRY) private readonly telemetry: Telemetry) {}

  @Get()
  metrics(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    this.telemetry.prometheus.getMetricsRequestHandler(request, response);
  }
}
