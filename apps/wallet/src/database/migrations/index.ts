import { LEDGER_MIGRATIONS } from '@pay/ledger-store';
import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600000 } from './1764057600000-messaging-tables';
import { WalletSettings1764230400000 } from './1764230400000-wallet-settings';
import { MoneyMovements1764489600000 } from './1764489600000-money-movements';
import { OutboxNotify1765065600000 } from './1765065600000-outbox-notify';
import { LedgerCorrections1765238400000 } from './1765238400000-ledger-corrections';
import { PinAbuseLimits1765324800000 } from './1765324800000-pin-abuse-limits';
import { ConsentOptIn1765411200000 } from './1765411200000-consent-opt-in';
import { Passkeys1765497600000 } from './1765497600000-passkeys';
import { BankDebitPostings1765584000000 } from './1765584000000-bank-debit-postings';
import { InstrumentReleases1765670400000 } from './1765670400000-instrument-releases';
import { PaymentArrivalRows1765670400001 } from './1765670400001-payment-arrival-rows';
import { InstrumentReleasesAppendOnly1767500000000 } from './1767500000000-instrument-releases-append-only';
import { PaymentsInProgressHousekeeping1767500000001 } from './1767500000001-payments-in-progress-housekeeping';
import { FundsReturns1767600000000 } from './1767600000000-funds-returns';
import { BankAccountVerification1768400000000 } from './1768400000000-bank-account-verification';
import { ConsumerGroupMembers1768810000000 } from './1768810000000-consumer-group-members';
import { BankAccountUnusable1768891000000 } from './1768891000000-bank-account-unusable';
import { BankAccountUnusableTold1768894000010 } from './1768894000010-bank-account-unusable-told';

/** Every migration of the wallet schema, in order. */
export const walletMigrations: MigrationList = [
  MessagingTables1764057600000,
  ...LEDGER_MIGRATIONS,
  WalletSettings1764230400000,
  MoneyMovements1764489600000,
  OutboxNotify1765065600000,
  LedgerCorrections1765238400000,
  PinAbuseLimits1765324800000,
  ConsentOptIn1765411200000,
  Passkeys1765497600000,
  BankDebitPostings1765584000000,
  InstrumentReleases1765670400000,
  PaymentArrivalRows1765670400001,
  InstrumentReleasesAppendOnly1767500000000,
  PaymentsInProgressHousekeeping1767500000001,
  FundsReturns1767600000000,
  BankAccountVerification1768400000000,
  ConsumerGroupMembers1768810000000,
  BankAccountUnusable1768891000000,
  BankAccountUnusableTold1768894000010,
];
