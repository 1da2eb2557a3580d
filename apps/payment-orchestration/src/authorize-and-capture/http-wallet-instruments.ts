import { readPaymentInstrument } from '@pay/contracts';
import type { HttpAnswer } from '@pay/observability';
import { tracedRequest } from '@pay/observability';
import type { InstrumentLookup, InstrumentRequest, WalletInstruments } from './wallet-instruments';
import type { ServiceTokenSource } from '@pay/auth';

interface ErrorBody {
  code?: string;
}

const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * The wallet's `GET /v1/wallets/:personId/payment-instruments/:methodId?app=&paymentId=` (services only).
 * 403/404/409 with a code are the wallet's final word (the payment fails with it, lower-cased);
 * anything else — no answer, 401, 5xx, 503 PAYMENT_NOT_KNOWN_YET while the wallet has not read the
 * payment's initiation yet — is an outage: the step is retried.
 */
export class HttpWalletInstruments implements WalletInstruments {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: ServiceTokenSource,
    private readonly timeoutMs: number,
  ) {}

  async lookup({ paymentId, personId, methodId, app }: InstrumentRequest): Promise<InstrumentLookup> {
    const query = new URLSearchParams({ app, paymentId });
    const url = `${this.baseUrl.replace(/\/$/, '')}/v1/wallets/${encodeURIComponent(personId)}/payment-instruments/${encodeURIComponent(methodId)}?${query.toString()}`;
    let response: HttpAnswer;
    try {
      const token = await this.tokens.token();
      // Once per card purchase: node's http client with keep-alive, at half the CPU of fetch.
      response = await tracedRequest('payment-orchestration', url, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return { outcome: 'unavailable', reason: `wallet unreachable: ${(error as Error).message}` };
    }
    let body: unknown = {};
    try {
      body = response.json();
    } catch {
      // A body that is not JSON tells nothing more than the status.
    }
    if (response.ok) {
      try {
        return { outcome: 'found', instrument: readPaymentInstrument(body) };
      } catch (error) {
        // The messages name fields and their rules, never the values (credentials).
        return { outcome: 'unavailable', reason: `the wallet's answer breaks the PaymentInstrument contract: ${(error as Error).message}` };
      }
    }
    const { code } = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
    if ([403, 404, 409].includes(response.status) && code && CODE.test(code)) return { outcome: 'refused', code: code.toLowerCase() };
    return { outcome: 'unavailable', reason: `wallet answered ${response.status}${typeof code === 'string' && CODE.test(code) ? ` ${code}` : ''}` };
  }
}
