import type { InstrumentReleaseAsk, InstrumentReleaseRead, InstrumentReleasesRequest } from '@pay/contracts';
import { MAX_INSTRUMENT_RELEASES, readInstrumentReleases, readPaymentInstrument } from '@pay/contracts';
import { GroupCommit } from '@pay/messaging';
import type { HttpAnswer } from '@pay/observability';
import { tracedRequest } from '@pay/observability';
import type { InstrumentLookup, InstrumentRequest, WalletInstruments } from './wallet-instruments';
import type { ServiceTokenSource } from '@pay/auth';

interface ErrorBody {
  code?: string;
}

const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/** How lookups are gathered into requests to the wallet. */
export interface InstrumentBatching {
  /** How long a lookup waits for company (0: the lookups of one turn of the event loop go together). */
  readonly waitMs: number;
  /** At most this many lookups a request (the wallet takes up to MAX_INSTRUMENT_RELEASES). */
  readonly maxBatchSize: number;
  /**
   * Requests in flight at once; beyond them lookups queue and form the next request. High by
   * default: a request lasts as long as the wallet waits for its slowest payment's arrival, and a
   * lookup queued behind it would wait that long too; the steps claimed together already ask in
   * one turn.
   */
  readonly maxConcurrentRequests: number;
}

export const DEFAULT_INSTRUMENT_BATCHING: InstrumentBatching = { waitMs: 0, maxBatchSize: MAX_INSTRUMENT_RELEASES, maxConcurrentRequests: 64 };

/**
 * The wallet's `POST /v1/payment-instruments/releases` (services only): the lookups of the authorize
 * steps running together go in one request, and each step gets its own item's answer.
 * 403/404/409 with a code are the wallet's final word (the payment fails with it, lower-cased);
 * anything else — no answer, 401, 5xx, an answer that breaks the contract, an item's 503
 * PAYMENT_NOT_KNOWN_YET while the wallet has not read the payment's initiation yet — is an outage
 * (for every item of the request when the request fails): the step is retried.
 */
export class HttpWalletInstruments implements WalletInstruments {
  private readonly requests: GroupCommit<InstrumentRequest, InstrumentLookup>;

  constructor(
    private readonly baseUrl: string,
    private readonly tokens: ServiceTokenSource,
    private readonly timeoutMs: number,
    batching: Partial<InstrumentBatching> = {},
  ) {
    const { waitMs, maxBatchSize, maxConcurrentRequests } = { ...DEFAULT_INSTRUMENT_BATCHING, ...batching };
    this.requests = new GroupCommit(async (lookups) => (await this.releaseAll(lookups)).map((value) => ({ status: 'fulfilled', value })), {
      maxWaitMs: waitMs,
      maxBatchSize: Math.min(maxBatchSize, MAX_INSTRUMENT_RELEASES),
      maxConcurrentBatches: maxConcurrentRequests,
    });
  }

  lookup(request: InstrumentRequest): Promise<InstrumentLookup> {
    return this.requests.submit(request);
  }

  private async releaseAll(lookups: readonly InstrumentRequest[]): Promise<InstrumentLookup[]> {
    const unavailable = (reason: string): InstrumentLookup[] => lookups.map(() => ({ outcome: 'unavailable', reason }));
    const releases: InstrumentReleaseAsk[] = lookups.map(({ paymentId, personId, methodId, app }) => ({ paymentId, personId, methodId, app }));
    const body: InstrumentReleasesRequest = { releases };
    let response: HttpAnswer;
    try {
      const token = await this.tokens.token();
      // Node's http client with keep-alive, at half the CPU of fetch.
      response = await tracedRequest('payment-orchestration', `${this.baseUrl.replace(/\/$/, '')}/v1/payment-instruments/releases`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return unavailable(`wallet unreachable: ${(error as Error).message}`);
    }
    let answer: unknown = {};
    try {
      answer = response.json();
    } catch {
      // A body that is not JSON tells nothing more than the status.
    }
    if (!response.ok) {
      const { code } = (typeof answer === 'object' && answer !== null ? answer : {}) as ErrorBody;
      return unavailable(`wallet answered ${response.status}${typeof code === 'string' && CODE.test(code) ? ` ${code}` : ''}`);
    }
    let items: InstrumentReleaseRead[];
    try {
      items = readInstrumentReleases(
        answer,
        lookups.map((lookup) => lookup.paymentId),
      );
    } catch (error) {
      return unavailable(`the wallet's answer breaks the InstrumentReleasesResponse contract: ${(error as Error).message}`);
    }
    return items.map(lookupOf);
  }
}

/** One item of the wallet's answer, read as the single route's answer was. */
function lookupOf(item: InstrumentReleaseRead): InstrumentLookup {
  if (item.status === 200) {
    try {
      return { outcome: 'found', instrument: readPaymentInstrument(item.instrument) };
    } catch (error) {
      // The messages name fields and their rules, never the values (credentials).
      return { outcome: 'unavailable', reason: `the wallet's answer breaks the PaymentInstrument contract: ${(error as Error).message}` };
    }
  }
  if ([403, 404, 409].includes(item.status) && item.code) return { outcome: 'refused', code: item.code.toLowerCase() };
  return { outcome: 'unavailable', reason: `wallet answered ${item.status}${item.code ? ` ${item.code}` : ''}` };
}
