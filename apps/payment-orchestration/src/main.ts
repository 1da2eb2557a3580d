import './instrument';
import { runService } from '@pay/platform';
import { paymentOrchestrationService } from './payment-orchestration.service';

void runService(paymentOrchestrationService);
