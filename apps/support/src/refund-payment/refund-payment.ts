import { createEvent, SupportRefundRequestedV1 } from '@pay/contracts';
import type { Money, SupportRefundReason } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { tracedFetch } from '@pay/observability';
import { inTransaction } from '@pay/platform';
import type { DataSource } from 'typeorm';
import type { ConversationStore } from '../conversations/conversation-store';
import type { FactsRow } from '../payment-timeline/payment-facts';
import { refundableOf } from '../payment-timeline/payment-facts';
import type { ConversationRow } from '../conversations/chat-views';
import type { SignedServiceTokens, SupportCase, SupportCaseSigner } from '@pay/auth';
import { AuthenticationError, readRefundApproval, REFUND_APPROVAL_HEADER, refundDifference, SUPPORT_CASE_HEADER } from '@pay/auth';
import { CONVERSATION_GUARD } from '../conversations/conversation-store';

export interface AgentRefundRequest {
  conversationId: string;
  agentId: string;
  /**
   * The Pay Hub's approval of this refund (`Refund-Approval`), minted at the agent's own request in
   * its session: passed on to orchestration, which refunds for support only with it, so support's
   * key alone cannot. Support never sees the agent's access token travel further than its own guard.
   */
  refundApproval: string | undefined;
  /** The agent client's Idempotency-Key, passed on to payment-orchestration: a retry never refunds twice. */
  idempotencyKey: string;
  amount?: Money;
  reason: SupportRefundReason;
}

export interface RefundStarted {
  refundId: string;
  paymentId: string;
  status: string;
  amount: Money;
}

export class RefundRefused extends Error {
  override name = 'RefundRefused';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 429 (support's refund budget at orchestration): when to ask again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/**
 * Use case: the agent assigned to a conversation about a payment refunds all or part of it, never
 * more than support has seen is still refundable (captured, less refunds asked that did not fail);
 * payment-orchestration checks again (with the Pay Hub's approval of the agent's click, passed on,
 * and within support's refund budget) and does the refund. Recorded as the agent's action (audit
 * row) and published (support.refund.requested) once orchestration accepted it.
 */
export class RefundPaymentForAgent {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: ConversationStore,
    /** Support's own key: its service token and the case reference that lets orchestration refund this one payment. */
    private readonly signing: { tokens: SignedServiceTokens; cases: SupportCaseSigner } | undefined,
    private readonly options: { orchestrationUrl: string; timeoutMs: number; eventsTopic: string; logger: Logger },
  ) {}

  async refund(request: AgentRefundRequest): Promise<RefundStarted> {
    // While orchestration is asked, the conversation cannot be closed or handed over (they wait for
    // this lock, conversationGuard): the case support signs stays true for the whole request.
    const started = await inTransaction(this.dataSource, async (sql) => {
      await sql.query(`SELECT pg_advisory_xact_lock_shared(${CONVERSATION_GUARD})`, [request.conversationId]);
      // Read on this transaction's own connection: a refund in flight holds one connection, never waits for a second.
      const [conversation] = await sql.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [request.conversationId]);
      const facts = conversation?.payment_id
        ? (await sql.query<FactsRow>('SELECT * FROM payments WHERE payment_id = $1', [conversation.payment_id]))[0]
        : undefined;
      return this.askOrchestration(request, conversation, facts);
    });
    await this.record(request, started);
    return started;
  }

  private async askOrchestration(request: AgentRefundRequest, conversation: ConversationRow | undefined, facts: FactsRow | undefined): Promise<RefundStarted> {
    // Only the agent the conversation is assigned to, while it is open, about a payment.
    if (!conversation || conversation.agent_id !== request.agentId || conversation.status !== 'claimed' || !conversation.payment_id)
      throw new RefundRefused(404, 'NOT_FOUND', 'nothing was found at this address');
    const paymentId = conversation.payment_id;
    const refundable = facts ? refundableOf(facts) : 0n;
    if (!facts?.currency || refundable === 0n) throw new RefundRefused(422, 'NOTHING_TO_REFUND', 'nothing of this payment is left to refund');
    if (request.amount && request.amount.currency !== facts.currency) {
      throw new RefundRefused(422, 'CURRENCY_MISMATCH', `the payment is in ${facts.currency}; refund in that currency`);
    }
    const amount = request.amount ? BigInt(request.amount.amount) : refundable;
    if (amount <= 0n || amount > refundable) {
      throw new RefundRefused(
        422,
        'REFUND_EXCEEDS_REFUNDABLE',
        `at most ${refundable} (minor units of ${facts.currency}) of this payment may still be refunded`,
      );
    }
    if (!this.signing) throw new RefundRefused(503, 'REFUNDS_UNAVAILABLE', 'refunds cannot be started from support right now (no service key configured)');

    const refund: SupportCase = {
      conversationId: request.conversationId,
      agentId: request.agentId,
      paymentId,
      idempotencyKey: request.idempotencyKey,
      amount: { amount: amount.toString(), currency: facts.currency },
    };
    const refundApproval = approvalOf(request.refundApproval, refund);
    // Signed only now, after the conversation was found open, about this payment and claimed by this
    // agent: orchestration refunds for support nothing but what such a case names.
    const supportCase = await this.signing.cases.sign(refund);
    let response: Response;
    try {
      response = await tracedFetch('support', `${this.options.orchestrationUrl}/v1/payments/${encodeURIComponent(paymentId)}/refunds`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await this.signing.tokens.token()}`,
          [SUPPORT_CASE_HEADER]: supportCase,
          [REFUND_APPROVAL_HEADER]: refundApproval,
          'content-type': 'application/json',
          'idempotency-key': request.idempotencyKey,
        },
        body: JSON.stringify({ amount: { amount: amount.toString(), currency: facts.currency }, reason: request.reason }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      this.options.logger.warn({ err: error, paymentId }, 'support: payment-orchestration did not answer a refund request');
      throw new RefundRefused(
        503,
        'PAYMENT_ORCHESTRATION_UNAVAILABLE',
        'payment-orchestration did not answer; try again (the same Idempotency-Key never refunds twice)',
      );
    }
    const body = (await response.json().catch(() => ({}))) as Partial<RefundStarted> & { code?: string; message?: string; retryAfterSeconds?: unknown };
    if (!response.ok || !body.refundId) {
      // Orchestration's refusal is the agent's answer (its codes say what the payment, and support's refund budget, allow).
      const retryAfterSeconds = typeof body.retryAfterSeconds === 'number' && Number.isInteger(body.retryAfterSeconds) ? body.retryAfterSeconds : undefined;
      throw new RefundRefused(
        response.status >= 500 || response.ok ? 502 : response.status,
        body.code ?? 'REFUND_REFUSED',
        body.message ?? 'payment-orchestration refused the refund',
        response.status === 429 ? retryAfterSeconds : undefined,
      );
    }
    return {
      refundId: body.refundId,
      paymentId,
      status: body.status ?? 'pending',
      amount: { amount: amount.toString(), currency: facts.currency },
    };
  }

  private async record(request: AgentRefundRequest, started: RefundStarted): Promise<void> {
    const { paymentId } = started;
    await inTransaction(this.dataSource, async (sql) => {
      // A retry (the same Idempotency-Key: orchestration answers with the same refund) is recorded
      // and published once; the conversation's row lock orders concurrent retries.
      await sql.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [request.conversationId]);
      const recorded = await sql.query<{ id: string }>(
        `SELECT id FROM agent_actions WHERE conversation_id = $1 AND action = 'refund' AND details->>'refundId' = $2`,
        [request.conversationId, started.refundId],
      );
      if (recorded.length > 0) return;
      const [row] = await sql.query<{ events: number }>('UPDATE conversations SET events = events + 1 WHERE id = $1 RETURNING events', [
        request.conversationId,
      ]);
      await this.store.recordAction(sql, request.conversationId, request.agentId, 'refund', {
        paymentId,
        refundId: started.refundId,
        amount: started.amount,
        reason: request.reason,
        idempotencyKey: request.idempotencyKey,
      });
      const envelope = createEvent({
        definition: SupportRefundRequestedV1,
        source: 'support',
        subject: request.conversationId,
        sequence: row.events,
        data: {
          conversationId: request.conversationId,
          agentId: request.agentId,
          paymentId,
          refundId: started.refundId,
          amount: started.amount,
          reason: request.reason,
        },
      });
      await appendToOutbox(sql, [{ topic: this.options.eventsTopic, envelope }]);
    });
  }
}

/**
 * The hub's approval, when it is of the refund support is about to sign a case for (conversation,
 * agent, payment, Idempotency-Key, exact amount); else 403 before orchestration is asked. Read, not
 * verified: orchestration verifies its signature, grant, expiry and spends it.
 */
function approvalOf(token: string | undefined, refund: SupportCase): string {
  const refused = (message: string): never => {
    throw new RefundRefused(403, 'REFUND_APPROVAL_REFUSED', message);
  };
  if (!token?.trim())
    return refused("refunds are approved by the agent on the Pay Hub's desk (Refund-Approval header), which states the payment and the exact amount");
  let approved: SupportCase;
  try {
    approved = readRefundApproval(token.trim());
  } catch (error) {
    if (error instanceof AuthenticationError) return refused(error.message);
    throw error;
  }
  const differs = refundDifference(approved, refund);
  if (differs) refused(`the refund approval is for another refund (${differs})`);
  return token.trim();
}
