import { verify, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { WebhookHeaders } from '../psp.port';
import { WebhookSignatureError } from '../psp.port';

export interface PayPalWebhookVerifierSettings {
  /** The webhook id of our endpoint: signed into every delivery, so a delivery meant for another endpoint fails. */
  readonly webhookId: string;
  readonly toleranceSeconds: number;
  /** Certificates are fetched only from URLs that start with one of these (PayPal's hosts, or the simulator). */
  readonly certUrlPrefixes: readonly string[];
  readonly fetchTimeoutMs?: number;
}

/** The certificate could not be fetched: our outage or PayPal's, not a forged webhook (answered 5xx: PayPal retries). */
export class WebhookCertificateUnavailableError extends Error {
  constructor(reason: string) {
    super(`PayPal webhook certificate unavailable: ${reason}`);
    this.name = 'WebhookCertificateUnavailableError';
  }
}

function single(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * PayPal's webhook signature, verified as PayPal documents it, offline: the message is
 * `<PAYPAL-TRANSMISSION-ID>|<PAYPAL-TRANSMISSION-TIME>|<our webhook id>|<CRC32 of the raw body,
 * decimal>`, signed SHA256withRSA with the key of the certificate at PAYPAL-CERT-URL. The
 * certificate is fetched only from PayPal's own hosts (a forger names their own otherwise),
 * must be valid now, and is cached by URL. The transmission time must be recent (replays).
 */
export class PayPalWebhookVerifier {
  private readonly certificates = new Map<string, Promise<X509Certificate>>();

  constructor(
    private readonly settings: PayPalWebhookVerifierSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async verify(rawBody: Buffer, headers: WebhookHeaders): Promise<void> {
    const transmissionId = single(headers, 'paypal-transmission-id');
    const transmissionTime = single(headers, 'paypal-transmission-time');
    const signature = single(headers, 'paypal-transmission-sig');
    const certUrl = single(headers, 'paypal-cert-url');
    const algorithm = single(headers, 'paypal-auth-algo');
    if (!transmissionId || !transmissionTime || !signature || !certUrl || !algorithm)
      throw new WebhookSignatureError('missing PayPal-Transmission-Id, -Time, -Sig, PayPal-Cert-Url or PayPal-Auth-Algo');
    if (algorithm !== 'SHA256withRSA') throw new WebhookSignatureError(`unsupported PayPal-Auth-Algo ${algorithm.slice(0, 32)}`);
    const sentAt = Date.parse(transmissionTime);
    if (Number.isNaN(sentAt)) throw new WebhookSignatureError('PayPal-Transmission-Time is not a time');
    if (Math.abs(this.now().getTime() - sentAt) > this.settings.toleranceSeconds * 1000)
      throw new WebhookSignatureError('PayPal-Transmission-Time outside the tolerance (a replay, or a clock far off)');
    if (!this.trusted(certUrl)) throw new WebhookSignatureError('PayPal-Cert-Url is not a PayPal certificate URL');
    const certificate = await this.certificate(certUrl);
    const now = this.now().getTime();
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo))
      throw new WebhookSignatureError('the signing certificate is not valid now');
    const message = `${transmissionId}|${transmissionTime}|${this.settings.webhookId}|${crc32(rawBody)}`;
    const valid = verify('sha256', Buffer.from(message, 'utf8'), certificate.publicKey, Buffer.from(signature, 'base64'));
    if (!valid) throw new WebhookSignatureError('the signature does not match the body, the transmission or our webhook id');
  }

  private trusted(certUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(certUrl);
    } catch {
      return false;
    }
    // Compared as normalised (no user info, no dot segments), so a prefix cannot be smuggled past.
    return url.username === '' && url.password === '' && url.href === certUrl && this.settings.certUrlPrefixes.some((prefix) => certUrl.startsWith(prefix));
  }

  private certificate(certUrl: string): Promise<X509Certificate> {
    let pending = this.certificates.get(certUrl);
    if (!pending) {
      pending = this.fetchCertificate(certUrl);
      this.certificates.set(certUrl, pending);
      // A failed fetch is not cached: the next delivery tries again.
      pending.catch(() => this.certificates.delete(certUrl));
    }
    return pending;
  }

  private async fetchCertificate(certUrl: string): Promise<X509Certificate> {
    let pem: string;
    try {
      const response = await fetch(certUrl, { signal: AbortSignal.timeout(this.settings.fetchTimeoutMs ?? 5_000) });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      pem = await response.text();
    } catch (error) {
      throw new WebhookCertificateUnavailableError((error as Error).message);
    }
    try {
      return new X509Certificate(pem);
    } catch {
      throw new WebhookSignatureError('PayPal-Cert-Url does not hold a certificate');
    }
  }
}
