import type { GroupCommitOptions } from '@pay/messaging';
import { GroupCommit } from '@pay/messaging';
import type { NamedStatement, Sql } from '@pay/platform';
import { queryNamed, sqlOfPool } from '@pay/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { PaymentInstrument } from '@pay/contracts';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT, RolloutError } from '@pay/rollout';
import { SERVICE_CONFIG } from '@pay/platform';
import { DataSource } from 'typeorm';
import type { WalletConfig } from '../config';
import { chargeCredentials } from '../domain/payment-method-rules';
import { methodNotFound, WalletError, walletNotFound } from '../domain/wallet-error';
import type { KnownPayment, ReleaseAsk, ReleaseRefusal } from '../payments-in-progress/instrument-release-rule';
import { instrumentReleaseRefusal } from '../payments-in-progress/instrument-release-rule';
import { PaymentArrivals } from '../payments-in-progress/payment-arrivals';
import { PaymentsInProgress } from '../payments-in-progress/payments-in-progress';
import { assertActive } from '../remove-payment-method/method-status';
import { SecretBox, secretContext } from '../store/secret-box';
import type { PaymentMethodRow } from '../view-payment-methods/payment-method-view';

interface InstrumentRow {
  /** Null when the person has no wallet. */
  country: string | null;
  apps: string[] | null;
  preferred_method_id: string | null;
  /** The named (or preferred) method, if it is the person's; null otherwise. */
  method: (Pick<PaymentMethodRow, 'id' | 'kind' | 'status' | 'secret' | 'verification' | 'unusable_reason'> & { usBank: boolean }) | null;
  key_id: string | null;
  master_key_id: string | null;
  wrapped_key: Buffer | null;
  /** The payment asked for, as the wallet has seen it on payments.events.v1; null when not (yet). */
  payment: KnownPayment | null;
}

/**
 * For each ask (in its order): the wallet, the method if it is the person's own, the person's data
 * key (methods are sealed with it) and the payment asked for. One statement for all the asks of a
 * request. Prepared: planned at every run it cost PostgreSQL ~8 times the CPU of running it
 * (docs/benchmarks.md, "Session 9").
 */
const INSTRUMENTS: NamedStatement = {
  name: 'wallet_instrument_releases',
  // Run on its own: planned once per connection, sent with its BEGIN and COMMIT (NamedStatement.plans).
  plans: 'generic',
  text: `
  SELECT w.country, w.apps, w.preferred_method_id,
         CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('id', m.id, 'kind', m.kind, 'status', m.status, 'secret', m.secret, 'verification', m.verification,
                                                        'unusable_reason', m.unusable_reason,
                                                        'usBank', m.kind = 'bank_account' AND m.display->>'country' = 'US') END AS method,
         k.id AS key_id, k.master_key_id, k.wrapped_key,
         CASE WHEN p.payment_id IS NULL THEN NULL
              ELSE json_build_object('paymentId', p.payment_id, 'payerId', p.payer_id, 'paymentMethodId', p.payment_method_id, 'app', p.app, 'stage', p.stage) END AS payment
    FROM unnest($1::text[], $2::uuid[], $3::text[]) WITH ORDINALITY AS ask(person_id, method_id, payment_id, n)
    LEFT JOIN wallets w ON w.person_id = ask.person_id
    LEFT JOIN payment_methods m ON m.id = COALESCE(ask.method_id, w.preferred_method_id) AND m.person_id = w.person_id
    LEFT JOIN data_keys k ON k.owner_id = w.person_id
    LEFT JOIN payments_in_progress p ON p.payment_id = ask.payment_id
   ORDER BY ask.n`,
};

/** The audit rows of one or more requests, in one statement. */
const AUDIT: NamedStatement = {
  name: 'wallet_instrument_audit',
  // Run on its own: planned once per connection, sent with its BEGIN and COMMIT (NamedStatement.plans).
  plans: 'generic',
  text: `INSERT INTO instrument_releases (caller, payment_id, person_id, method_id, app, outcome)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
};

/** Who asks, for which payment: every release and every refusal of one is recorded with them. */
export interface ReleaseRequest {
  readonly paymentId: string;
  /** `role:subject` of the token. */
  readonly caller: string;
}

/** One release asked for: `methodId` is a method's id, or `preferred` for the person's preferred method. */
export interface InstrumentAsk {
  readonly paymentId: string;
  readonly personId: string;
  readonly methodId: string;
  readonly app: string;
}

/** What one ask is answered: the instrument, or the refusal the single route answers with its status. */
export type InstrumentReleaseOutcome =
  { readonly released: PaymentInstrument; readonly refused?: undefined } | { readonly refused: WalletError | RolloutError; readonly released?: undefined };

/** Seconds after which orchestration asks again for a payment the wallet has not seen yet. */
const NOT_KNOWN_RETRY_AFTER_SECONDS = 1;

const REFUSALS: Record<ReleaseRefusal, () => WalletError> = {
  PAYMENT_NOT_KNOWN_YET: () =>
    new WalletError('unavailable', 'PAYMENT_NOT_KNOWN_YET', 'the wallet has not seen this payment yet; ask again once it is on payments.events.v1', {
      retryAfterSeconds: NOT_KNOWN_RETRY_AFTER_SECONDS,
    }),
  PAYMENT_NOT_FOUND: () => new WalletError('not-found', 'PAYMENT_NOT_FOUND', 'no payment of this person with this method and app awaits a charge'),
  PAYMENT_NOT_AWAITING_CHARGE: () =>
    new WalletError('conflict', 'PAYMENT_NOT_AWAITING_CHARGE', 'the payment was charged, failed or was cancelled already: nothing is released for it'),
};

interface AuditRow {
  readonly caller: string;
  readonly paymentId: string;
  readonly personId: string;
  readonly methodId: string;
  readonly app: string;
  readonly outcome: string;
}

/** An ask refused by the wallet's checks (not audited, as none of these names a payment), or past them. */
type Checked =
  | { readonly refused: WalletError | RolloutError }
  | { readonly refused?: undefined; readonly ask: ReleaseAsk; readonly method: NonNullable<InstrumentRow['method']>; readonly row: InstrumentRow };

/** An ask past the checks: refused with its audit row, or to be released (its method opened) once audited. */
type Decision =
  | { readonly refused: WalletError | RolloutError; readonly audit?: AuditRow }
  | { readonly refused?: undefined; readonly audit: AuditRow; readonly method: NonNullable<InstrumentRow['method']>; readonly row: InstrumentRow };

/** Audit rows written together: the rows of at most 64 requests, two INSERTs in flight, no waiting for company. */
const AUDIT_BATCHING: GroupCommitOptions = { maxBatchSize: 64, maxWaitMs: 0, maxConcurrentBatches: 2 };

/**
 * What the payment service needs to charge a method; only for a method that may pay, in an app
 * where Pay is on, for a payment of that person awaiting its charge with that method (as the
 * wallet saw it on payments.events.v1). Each answer past the wallet's checks is audited in
 * `instrument_releases`. One ask (the single route) and many (the batch route) take the same path:
 * one SELECT and one audit INSERT for all the asks of a request.
 */
@Injectable()
export class GetPaymentInstrument {
  constructor(
    private readonly secrets: SecretBox,
    private readonly dataSource: DataSource,
    private readonly payments: PaymentsInProgress,
    private readonly arrivals: PaymentArrivals,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
    @Inject(SERVICE_CONFIG) private readonly config: WalletConfig,
  ) {}

  /** The pool's connections, on which the two statements of a release are prepared. */
  private get pool(): Sql {
    return (this.poolSql ??= sqlOfPool(this.dataSource));
  }
  private poolSql?: Sql;

  /** One release: the instrument, or the refusal thrown (the single route). */
  async get(personId: string, methodId: string, app: string, request: ReleaseRequest): Promise<PaymentInstrument> {
    const [outcome] = await this.releaseAll([{ paymentId: request.paymentId, personId, methodId, app }], request.caller);
    if (outcome.refused) throw outcome.refused;
    return outcome.released;
  }

  /**
   * Each ask answered on its own, in the asks' order; `caller` (`role:subject` of the token) is
   * recorded with every audited answer. A failure of the database fails them all.
   */
  async releaseAll(asks: readonly InstrumentAsk[], caller: string): Promise<InstrumentReleaseOutcome[]> {
    // Orchestration usually asks before the wallet has read the payment's initiation: the wait for
    // it is registered before the read, so an arrival between the two is not missed.
    const waitMs = this.config.INSTRUMENT_RELEASE_WAIT_MS;
    const arrivals = waitMs > 0 ? asks.map((ask) => this.arrivals.expect(ask.paymentId)) : undefined;
    try {
      const rows = await queryNamed<InstrumentRow>(this.pool, INSTRUMENTS, [
        asks.map((ask) => ask.personId),
        asks.map((ask) => (ask.methodId === 'preferred' ? null : ask.methodId)),
        asks.map((ask) => ask.paymentId),
      ]);
      if (rows.length !== asks.length) throw new Error(`instrument releases: ${asks.length} asks read ${rows.length} rows`);
      const checked = asks.map((ask, i) => this.check(ask, rows[i]));
      // A payment not read yet is waited for (each ask on its own, together); those still unknown
      // after the wait (their announcement carried no row, or the LISTEN connection was down) are read once more, together.
      const payments = await Promise.all(
        checked.map(async (check, i): Promise<KnownPayment | undefined> =>
          check.refused ? undefined : (rows[i].payment ?? (await arrivals?.[i].within(waitMs))),
        ),
      );
      const unknown = arrivals ? checked.flatMap((check, i) => (!check.refused && !payments[i] ? [i] : [])) : [];
      if (unknown.length > 0) {
        const known = await this.payments.findAll(unknown.map((i) => asks[i].paymentId));
        for (const i of unknown) payments[i] = known.get(asks[i].paymentId);
      }
      const decisions = checked.map((check, i): Decision =>
        check.refused ? { refused: check.refused } : this.decide(check, payments[i] ?? undefined, caller),
      );
      await this.audit(decisions.flatMap((decision) => (decision.audit ? [decision.audit] : [])));
      return await Promise.all(decisions.map((decision) => this.open(decision)));
    } finally {
      arrivals?.forEach((arrival) => arrival.cancel());
    }
  }

  /** The wallet's checks (wallet, rollout, Pay on in the app, the method the person's and active): the refusal, or the ask as it will be recorded. */
  private check(ask: InstrumentAsk, found: InstrumentRow): Checked {
    try {
      if (!found.country || !found.apps) throw walletNotFound();
      this.rollout.policy.assertLive(found.country, ask.app);
      if (!found.apps.includes(ask.app)) {
        throw new WalletError('refused', 'PAY_NOT_ACTIVE_IN_APP', `the person has not turned Pay on in ${ask.app}`, { app: ask.app });
      }
      if (ask.methodId === 'preferred' && !found.preferred_method_id)
        throw new WalletError('conflict', 'NO_PREFERRED_METHOD', 'the person has no preferred payment method; name one');
      if (!found.method) throw methodNotFound();
      assertActive(found.method);
    } catch (error) {
      if (error instanceof WalletError || error instanceof RolloutError) return { refused: error };
      throw error;
    }
    return { ask: { paymentId: ask.paymentId, personId: ask.personId, methodId: found.method.id, app: ask.app }, method: found.method, row: found };
  }

  /** The payment's rule (instrumentReleaseRefusal), then the method's own: the refusal or the release, each with its audit row. */
  private decide({ ask, method, row }: Exclude<Checked, { refused: unknown }>, payment: KnownPayment | undefined, caller: string): Decision {
    const refusal = instrumentReleaseRefusal(payment, ask);
    if (refusal) return { refused: REFUSALS[refusal](), audit: { ...ask, caller, outcome: refusal } };
    // The payer's bank refused this account for good (closed, not found, mandate revoked): no debit is tried again.
    if (method.unusable_reason) {
      return {
        refused: new WalletError(
          'conflict',
          'BANK_ACCOUNT_UNUSABLE',
          "the payer's bank no longer accepts debits from this account; its owner saves another one",
          { reason: method.unusable_reason },
        ),
        audit: { ...ask, caller, outcome: 'BANK_ACCOUNT_UNUSABLE' },
      };
    }
    // A US account debits only once its micro-deposits are verified (one saved before verification existed has none: saved again).
    if (method.usBank && method.verification !== 'verified') {
      return {
        refused: new WalletError(
          'conflict',
          'BANK_ACCOUNT_UNVERIFIED',
          'this US bank account is not verified: its owner confirms the micro-deposits sent to it first',
          { verification: method.verification ?? 'pending' },
        ),
        audit: { ...ask, caller, outcome: 'BANK_ACCOUNT_UNVERIFIED' },
      };
    }
    return { audit: { ...ask, caller, outcome: 'released' }, method, row };
  }

  /** The method's charge data, opened with the person's data key: only once its release is audited. */
  private async open(decision: Decision): Promise<InstrumentReleaseOutcome> {
    if (decision.refused) return { refused: decision.refused };
    const { method, row } = decision;
    const key = row.key_id ? { id: row.key_id, master_key_id: row.master_key_id!, wrapped_key: row.wrapped_key! } : undefined;
    const secret = JSON.parse(await this.secrets.openWith(this.pool, key, method.secret!, secretContext.method(method.id))) as Record<string, string>;
    return { released: { methodId: method.id, kind: method.kind, credentials: chargeCredentials(method.kind, secret) } };
  }

  /**
   * The audit trail: who asked, for which payment, person, method and app, and what was answered;
   * never the credentials. The rows of one request, and of requests answered at the same moment,
   * share one INSERT (group commit), and the answers wait for their rows.
   */
  private async audit(rows: readonly AuditRow[]): Promise<void> {
    if (rows.length > 0) await this.auditTrail.submit(rows);
  }

  private readonly auditTrail = new GroupCommit<readonly AuditRow[], void>(async (requests) => {
    const rows = requests.flat();
    try {
      await queryNamed(this.pool, AUDIT, [
        rows.map((r) => r.caller),
        rows.map((r) => r.paymentId),
        rows.map((r) => r.personId),
        rows.map((r) => r.methodId),
        rows.map((r) => r.app),
        rows.map((r) => r.outcome),
      ]);
      return requests.map(() => ({ status: 'fulfilled', value: undefined }));
    } catch (error) {
      return requests.map(() => ({ status: 'rejected', reason: error }));
    }
  }, AUDIT_BATCHING);
}
