import type { BeforeApplicationShutdown, DynamicModule, OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable, Logger, Module, Optional } from '@nestjs/common';
import type { GroupCommitOptions } from '@pay/messaging';
import { PostgresLedger, ReservationSweeper } from '@pay/ledger-store';
import { DataSource } from 'typeorm';
import { AccountsController } from './accounts/accounts.controller';
import { recordLedgerBatch } from './ledger-metrics';
import { LEDGER, LEDGER_MODULE_OPTIONS } from './ledger.tokens';
import { RecordCorrectionController } from './record-correction/record-correction.controller';
import { ReservationsController } from './reservations/reservations.controller';
import { TransactionsController } from './transactions/transactions.controller';

export interface LedgerModuleOptions {
  /** The least time between two sweeps of expired holds; 0 turns the sweeper off (tests). Default 1000. */
  readonly sweepIntervalMs?: number;
  /** How long the sweeper sleeps at most without a known expiry (holds other instances record). Default 60 s. */
  readonly sweepMaxSleepMs?: number;
  readonly groupCommit?: Partial<GroupCommitOptions>;
}

const DEFAULT_SWEEP_INTERVAL_MS = 1_000;
const DEFAULT_SWEEP_MAX_SLEEP_MS = 60_000;

/** Starts the expiry sweeper with the application; drains group commit before the pool closes. */
@Injectable()
class LedgerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Ledger');
  private sweeper: ReservationSweeper | undefined;

  constructor(
    @Inject(LEDGER) private readonly ledger: PostgresLedger,
    @Optional() @Inject(LEDGER_MODULE_OPTIONS) private readonly options: LedgerModuleOptions | null,
  ) {}

  onApplicationBootstrap(): void {
    const intervalMs = this.options?.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (intervalMs <= 0) return;
    this.sweeper = new ReservationSweeper(this.ledger, {
      intervalMs,
      maxSleepMs: this.options?.sweepMaxSleepMs ?? DEFAULT_SWEEP_MAX_SLEEP_MS,
      onError: (error) => this.logger.warn(`expiring reservations failed, will retry: ${(error as Error).message}`),
    });
    this.sweeper.start();
  }

  // Before shutdown, not on it: the platform closes the DataSource in onApplicationShutdown.
  async beforeApplicationShutdown(): Promise<void> {
    await this.sweeper?.stop();
    await this.ledger.close();
  }
}

/**
 * The ledger's HTTP API (/v1/ledger/...). Needs a TypeORM `DataSource` provider (the wallet
 * app's PlatformModule gives it) whose schema has the ledger migrations (LEDGER_MIGRATIONS).
 */
@Module({
  controllers: [AccountsController, TransactionsController, ReservationsController, RecordCorrectionController],
  providers: [
    {
      provide: LEDGER,
      inject: [DataSource, { token: LEDGER_MODULE_OPTIONS, optional: true }],
      useFactory: (dataSource: DataSource, options?: LedgerModuleOptions) =>
        new PostgresLedger(dataSource, { groupCommit: options?.groupCommit, onBatch: recordLedgerBatch }),
    },
    LedgerLifecycle,
  ],
  exports: [LEDGER],
})
export class LedgerModule {
  static register(options: LedgerModuleOptions): DynamicModule {
    return { module: LedgerModule, providers: [{ provide: LEDGER_MODULE_OPTIONS, useValue: options }] };
  }
}
