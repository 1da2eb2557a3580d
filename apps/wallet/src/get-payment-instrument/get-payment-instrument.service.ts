import type { GroupCommitOptions } from '@pay/messaging';
import { GroupCommit } from '@pay/messaging';
import type { NamedStatement, Sql } from '@pay/platform';
import { queryNamed, sqlOfPool } from '@pay/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { PaymentInstrument } from '@pay/contracts';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import { SERVICE_CONFIG } from '@pay/platform';
import { DataSource } from 'typeorm';
import type { WalletConfig } from '../config';
import { chargeCredentials } from '../domain/payment-method-rules';
import { methodNotFound, WalletError, walletNotFound } from '../domain/wallet-error';
import type { KnownPayment, ReleaseRefusal } from '../payments-in-progress/instrument-release-rule';
import { instrumentReleaseRefusal } from '../payments-in-progress/instrument-release-rule';
import type { PaymentArrival } from '../payments-in-progress/payment-arrivals';
import { PaymentArrivals } from '../payments-in-progress/payment-arrivals';
import { PaymentsInProgress } from '../payments-in-progress/payments-in-progress';
import { assertActive } from '../remove-payment-method/method-status';
import { SecretBox, secretContext } from '../store/secret-box';
import type { PaymentMethodRow } from '../view-payment-methods/payment-method-view';

interface InstrumentRow {
  country: string;
  apps: string[];
  preferred_method_id: string | null;
  /** The named (or preferred) method, if it is the person's; null otherwise. */
  method: (Pick<PaymentMethodRow, 'id' | 'kind' | 'status' | 'secret' | 'verification'> & { usBank: boolean }) | null;
  key_id: string | null;
  master_key_id: string | null;
  wrapped_key: Buffer | null;
  /** The payment asked for, as the wallet has seen it on payments.events.v1; null when not (yet). */
  payment: KnownPayment | null;
}

/**
 * The wallet, the method if it is the person's own, the person's data key (methods are sealed with
 * it) and the payment asked for. Prepared: planned at every run it cost PostgreSQL ~8 times the CPU
 * of running it (docs/benchmarks.md, "Session 9").
 */
const INSTRUMENT: NamedStatement = {
  name: 'wallet_instrument_release',
  text: `
  SELECT w.country, w.apps, w.preferred_method_id,
         CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('id', m.id, 'kind', m.kind, 'status', m.status, 'secret', m.secret, 'verification', m.verification,
                                                        'usBank', m.kind = 'bank_account' AND m.display->>'country' = 'US') END AS method,
         k.id AS key_id, k.master_key_id, k.wrapped_key,
         (SELECT json_build_object('paymentId', p.payment_id, 'payerId', p.payer_id, 'paymentMethodId', p.payment_method_id, 'app', p.app, 'stage', p.stage)
            FROM payments_in_progress p WHERE p.payment_id = $3) AS payment
    FROM wallets w
    LEFT JOIN payment_methods m ON m.id = COALESCE($2::uuid, w.preferred_method_id) AND m.person_id = w.person_id
    LEFT JOIN data_keys k ON k.owner_id = w.person_id
   WHERE w.person_id = $1`,
};

/** One audit row per ask; asks answered at the same moment share the statement. */
const AUDIT: NamedStatement = {
  name: 'wallet_instrument_audit',
  text: `INSERT INTO instrument_releases (caller, payment_id, person_id, method_id, app, outcome)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
};

/** Who asks, for which payment: every release and every refusal of one is recorded with them. */
export interface ReleaseRequest {
  readonly paymentId: string;
  /** `role:subject` of the token. */
  readonly caller: string;
}

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

/**
 * What the payment service needs to charge a method; only for a method that may pay, in an app
 * where Pay is on, for a payment of that person awaiting its charge with that method (as the
 * wallet saw it on payments.events.v1). Each answer is audited in `instrument_releases`.
 */
interface AuditRow {
  readonly caller: string;
  readonly paymentId: string;
  readonly personId: string;
  readonly methodId: string;
  readonly app: string;
  readonly outcome: string;
}

/** Audit rows written together: at most 200, two INSERTs in flight, no waiting for company. */
const AUDIT_BATCHING: GroupCommitOptions = { maxBatchSize: 200, maxWaitMs: 0, maxConcurrentBatches: 2 };

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

  /**
   * `methodId` is a method's id, or `preferred` for the person's preferred method. Every payment
   * asks this once: the wallet, the method and the person's data key come in one statement.
   */
  async get(personId: string, methodId: string, app: string, request: ReleaseRequest): Promise<PaymentInstrument> {
    // Orchestration usually asks before the wallet has read the payment's initiation: the wait for
    // it is registered before the read, so an arrival between the two is not missed.
    const waitMs = this.config.INSTRUMENT_RELEASE_WAIT_MS;
    const arrival = waitMs > 0 ? this.arrivals.expect(request.paymentId) : undefined;
    try {
      return await this.release(personId, methodId, app, request, arrival);
    } finally {
      arrival?.cancel();
    }
  }

  private async release(
    personId: string,
    methodId: string,
    app: string,
    request: ReleaseRequest,
    arrival: PaymentArrival | undefined,
  ): Promise<PaymentInstrument> {
    const [found] = await queryNamed<InstrumentRow>(this.pool, INSTRUMENT, [personId, methodId === 'preferred' ? null : methodId, request.paymentId]);
    if (!found) throw walletNotFound();
    this.rollout.policy.assertLive(found.country, app);
    if (!found.apps.includes(app)) {
      throw new WalletError('refused', 'PAY_NOT_ACTIVE_IN_APP', `the person has not turned Pay on in ${app}`, { app });
    }
    if (methodId === 'preferred' && !found.preferred_method_id)
      throw new WalletError('conflict', 'NO_PREFERRED_METHOD', 'the person has no preferred payment method; name one');
    if (!found.method) throw methodNotFound();
    const row = found.method;
    assertActive(row);
    const ask = { paymentId: request.paymentId, personId, methodId: row.id, app };
    const payment =
      found.payment ??
      (arrival ? ((await arrival.within(this.config.INSTRUMENT_RELEASE_WAIT_MS)) ?? (await this.payments.find(request.paymentId))) : undefined);
    const refusal = instrumentReleaseRefusal(payment, ask);
    // A US account debits only once its micro-deposits are verified (one saved before verification existed has none: saved again).
    const unverified = !refusal && row.usBank && row.verification !== 'verified';
    await this.audit(ask, request.caller, refusal ?? (unverified ? 'BANK_ACCOUNT_UNVERIFIED' : 'released'));
    if (refusal) throw REFUSALS[refusal]();
    if (unverified)
      throw new WalletError(
        'conflict',
        'BANK_ACCOUNT_UNVERIFIED',
        'this US bank account is not verified: its owner confirms the micro-deposits sent to it first',
        {
          verification: row.verification ?? 'pending',
        },
      );
    const key = found.key_id ? { id: found.key_id, master_key_id: found.master_key_id!, wrapped_key: found.wrapped_key! } : undefined;
    const secret = JSON.parse(await this.secrets.openWith(sqlOfPool(this.dataSource), key, row.secret!, secretContext.method(row.id))) as Record<
      string,
      string
    >;
    return { methodId: row.id, kind: row.kind, credentials: chargeCredentials(row.kind, secret) };
  }

  /**
   * The audit trail: who asked, for which payment, person, method and app, and what was answered;
   * never the credentials. Asks answered at the same moment share one INSERT (group commit), and
   * the answer waits for its row.
   */
  private audit(ask: { paymentId: string; personId: string; methodId: string; app: string }, caller: string, outcome: string): Promise<void> {
    return this.auditTrail.submit({ ...ask, caller, outcome });
  }

  private readonly auditTrail = new GroupCommit<AuditRow, void>(async (rows) => {
    try {
      await queryNamed(this.pool, AUDIT, [
        rows.map((r) => r.caller),
        rows.map((r) => r.paymentId),
        rows.map((r) => r.personId),
        rows.map((r) => r.methodId),
        rows.map((r) => r.app),
        rows.map((r) => r.outcome),
      ]);
      return rows.map(() => ({ status: 'fulfilled', value: undefined }));
    } catch (error) {
      return rows.map(() => ({ status: 'rejected', reason: error }));
    }
  }, AUDIT_BATCHING);
}
