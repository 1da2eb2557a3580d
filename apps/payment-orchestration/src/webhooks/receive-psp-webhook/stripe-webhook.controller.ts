import type { RawBodyRequest } from '@nestjs/common';
import { BadRequestException, Controller, Headers, HttpCode, InternalServerErrorException, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@pay/auth';
import type { IncomingMessage } from 'node:http';
import { WebhookSignatureError } from '../../psp/psp.port';
import type { WebhookReceipt } from './receive-psp-webhook';
import { ReceivePspWebhook } from './receive-psp-webhook';

/**
 * Stripe's webhook endpoint. Stripe retries any answer other than 2xx, so: 200 for a recorded
 * (or already recorded) event, 400 for one whose signature fails (a retry would fail the same
 * way), 5xx when recording failed (the retry is wanted). No access token: the provider signs
 * the body instead, and the signature is what is checked.
 */
@ApiTags('webhooks')
@Public()
@Controller('v1/webhooks')
export class StripeWebhookController {
  constructor(private readonly receivePspWebhook: ReceivePspWebhook) {}

  @Post('stripe')
  @HttpCode(200)
  @ApiOperation({ summary: 'Receive a Stripe webhook event (signature verified, deduplicated by event id)' })
  @ApiHeader({ name: 'Stripe-Signature', required: true, description: 't=<timestamp>,v1=<HMAC-SHA256 of "<timestamp>.<body>">' })
  @ApiOkResponse({ description: 'Recorded, or recorded before (duplicate: true)' })
  @ApiBadRequestResponse({ description: 'WEBHOOK_SIGNATURE_INVALID: not signed with our endpoint secret, tampered with, or too old' })
  async receiveStripe(@Req() request: RawBodyRequest<IncomingMessage>, @Headers('stripe-signature') signature?: string): Promise<WebhookReceipt> {
    const rawBody = request.rawBody;
    if (!rawBody) {
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
        throw new BadRequestException({ code: 'UNSUPPORTED_CONTENT_TYPE', message: 'a Stripe webhook is sent as application/json' });
      }
      // The signature covers the exact bytes; without them nothing can be verified, and Stripe should retry.
      throw new InternalServerErrorException({
        code: 'RAW_BODY_UNAVAILABLE',
        message: 'the service was started without rawBody: true; webhooks cannot be verified',
      });
    }
    try {
      return await this.receivePspWebhook.receive('stripe', rawBody, { 'stripe-signature': signature });
    } catch (error) {
      if (error instanceof WebhookSignatureError) throw new BadRequestException({ code: error.code, message: error.message });
      throw error;
    }
  }
}
