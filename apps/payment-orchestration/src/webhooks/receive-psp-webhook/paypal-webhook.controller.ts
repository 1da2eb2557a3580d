import type { RawBodyRequest } from '@nestjs/common';
import { BadRequestException, Controller, HttpCode, InternalServerErrorException, Post, Req, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@pay/auth';
import type { IncomingMessage } from 'node:http';
import { WebhookCertificateUnavailableError } from '../../psp/paypal/paypal-webhook-verifier';
import { PAYPAL_PROVIDER } from '../../psp/paypal/paypal-status';
import { WebhookSignatureError } from '../../psp/psp.port';
import type { WebhookReceipt } from './receive-psp-webhook';
import { ReceivePspWebhook } from './receive-psp-webhook';

/**
 * PayPal's webhook endpoint. PayPal retries any answer other than 2xx (up to 25 times over 3
 * days): 200 for a recorded (or already recorded) event, 400 for one whose signature fails, 503
 * when PayPal's certificate could not be fetched (not the sender's fault: the retry is wanted),
 * 5xx when recording failed. No access token: PayPal signs the body, and that is what is checked.
 */
@ApiTags('webhooks')
@Public()
@Controller('v1/webhooks')
export class PayPalWebhookController {
  constructor(private readonly receivePspWebhook: ReceivePspWebhook) {}

  @Post('paypal')
  @HttpCode(200)
  @ApiOperation({ summary: "Receive a PayPal webhook event (signature verified with PayPal's certificate, deduplicated by event id)" })
  @ApiHeader({ name: 'PAYPAL-TRANSMISSION-ID', required: true })
  @ApiHeader({ name: 'PAYPAL-TRANSMISSION-TIME', required: true })
  @ApiHeader({
    name: 'PAYPAL-TRANSMISSION-SIG',
    required: true,
    description: 'SHA256withRSA over "<transmission id>|<time>|<webhook id>|<CRC32 of the body>", base64',
  })
  @ApiHeader({ name: 'PAYPAL-CERT-URL', required: true, description: "PayPal's signing certificate; fetched only from PayPal's hosts" })
  @ApiHeader({ name: 'PAYPAL-AUTH-ALGO', required: true, description: 'SHA256withRSA' })
  @ApiOkResponse({ description: 'Recorded, or recorded before (duplicate: true)' })
  @ApiBadRequestResponse({ description: 'WEBHOOK_SIGNATURE_INVALID: not signed by PayPal for our webhook id, tampered with, or too old' })
  @ApiServiceUnavailableResponse({ description: "PAYPAL_CERTIFICATE_UNAVAILABLE: PayPal's certificate could not be fetched; PayPal retries" })
  async receivePayPal(@Req() request: RawBodyRequest<IncomingMessage>): Promise<WebhookReceipt> {
    const rawBody = request.rawBody;
    if (!rawBody) {
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
        throw new BadRequestException({ code: 'UNSUPPORTED_CONTENT_TYPE', message: 'a PayPal webhook is sent as application/json' });
      }
      throw new InternalServerErrorException({
        code: 'RAW_BODY_UNAVAILABLE',
        message: 'the service was started without rawBody: true; webhooks cannot be verified',
      });
    }
    try {
      return await this.receivePspWebhook.receive(PAYPAL_PROVIDER, rawBody, request.headers);
    } catch (error) {
      if (error instanceof WebhookSignatureError) throw new BadRequestException({ code: error.code, message: error.message });
      if (error instanceof WebhookCertificateUnavailableError)
        throw new ServiceUnavailableException({ code: 'PAYPAL_CERTIFICATE_UNAVAILABLE', message: error.message });
      throw error;
    }
  }
}
