import './instrument';
import { runService } from '@pay/platform';
import { supportService } from './support.service';

void runService(supportService);
