import './instrument';
import { runService } from '@pay/platform';
import { adSignalAggregationService } from './ad-signal-aggregation.service';

void runService(adSignalAggregationService);
