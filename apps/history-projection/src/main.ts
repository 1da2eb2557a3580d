import './instrument';
import { runService } from '@pay/platform';
import { historyProjectionService } from './history-projection.service';

void runService(historyProjectionService);
