import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { applyDecorators, Controller, Inject, Injectable, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeCaller, Roles } from '@pay/auth';
import { WalletError } from '../domain/wallet-error';
import type { Clock } from '../ports/clock';
import { CLOCK } from '../ports/clock';
import { RateLimitBuckets } from '../store/rate-limit-buckets';
import type { WalletRules } from '../wallet-settings.tokens';
import { WALLET_RULES } from '../wallet-settings.tokens';

/**
 * Rate-limits PIN and step-up attempts per person and per caller (after authentication, before
 * the PIN is looked at), so no caller can drive PIN guessing for one person or for many. A
 * refusal is 429 RATE_LIMITED with Retry-After.
 */
@Injectable()
export class PinAttemptLimit implements CanActivate {
  constructor(
    private readonly buckets: RateLimitBuckets,
    @Inject(WALLET_RULES) private readonly rules: WalletRules,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ params?: Record<string, string | undefined>; principal?: Principal }>();
    const now = this.clock.now();
    const { perPerson, perCaller } = this.rules.pinAttemptRates;
    await this.take(`pin-attempts:person:${request.params?.personId ?? ''}`, perPerson, now, 'this person');
    await this.take(`pin-attempts:caller:${request.principal ? describeCaller(request.principal) : 'anonymous'}`, perCaller, now, 'this caller');
    return true;
  }

  private async take(bucket: string, perMinute: number, now: Date, whose: string): Promise<void> {
    const outcome = await this.buckets.take(bucket, perMinute, now);
    if (outcome.allowed) return;
    throw new WalletError(
      'rate-limited',
      'RATE_LIMITED',
      `too many PIN or step-up attempts for ${whose} (at most ${perMinute} a minute): retry after ${outcome.retryAfterSeconds} seconds`,
      { retryAfterSeconds: outcome.retryAfterSeconds },
    );
  }
}

/**
 * A controller of a person's wallet where a PIN or passkey is tried (`v1/wallets/:personId/<resource>`,
 * tagged `<resource>`): the person's own token, each attempt rate-limited. `delegated`: whether a
 * person's token that an app's backend holds for them (`act`) opens it too (a step-up with the PIN the
 * person typed in the app), or the route is the person's alone (setting a PIN, registering a passkey).
 * Attempts through a backend count against that backend's limit, whichever person they are for.
 */
export function PinAttemptRoutes(resource: 'pin' | 'step-up' | 'passkeys', options: { delegated: boolean }): ClassDecorator {
  return applyDecorators(
    ApiTags(resource),
    ApiBearerAuth(),
    Controller(`v1/wallets/:personId/${resource}`),
    Roles('person'),
    ActsForPerson(),
    ...(options.delegated ? [AllowDelegated()] : []),
    UseGuards(PinAttemptLimit),
  );
}
