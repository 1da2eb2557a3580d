// Imported first by main.ts: OpenTelemetry must start before the modules it instruments load.
import { startTelemetry } from '@pay/observability';

startTelemetry({ service: 'pay-hub', otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });
