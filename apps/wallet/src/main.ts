import './instrument';
import { runService } from '@pay/platform';
import { walletService } from './wallet.service';

void runService(walletService);
