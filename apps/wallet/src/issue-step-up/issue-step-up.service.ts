import { Inject, Injectable } from '@nestjs/common';
import type { StepUpMethod } from '@pay/auth';
import type { StepUpProofSigner } from '@pay/auth/step-up-signer';
import { StepUpGrantedV1 } from '@pay/contracts';
import type { RolloutSource } from '@pay/rollout';
import { ROLLOUT } from '@pay/rollout';
import type { AuthenticationCredentialBody, PasskeyAuthenticationOptionsView } from '../passkeys/passkey.dto';
import { PasskeyCeremonies } from '../passkeys/passkey-ceremonies';
import type { Clock } from '../ports/clock';
import { CLOCK } from '../ports/clock';
import { PinChecker } from '../store/pin-check';
import type { WalletChange } from '../store/wallet-store';
import { WalletStore } from '../store/wallet-store';
import { STEP_UP_SIGNER } from '../wallet-settings.tokens';
import type { AmountCeiling, StepUpProofView } from './step-up.dto';

/**
 * A person confirms a payment (PIN, or a passkey: biometric) and gets a short-lived
 * proof bound to them, an amount ceiling and a currency, which payment orchestration asks for
 * above its threshold. Both factors earn the same proof type.
 */
@Injectable()
export class IssueStepUp {
  constructor(
    private readonly store: WalletStore,
    private readonly pins: PinChecker,
    @Inject(STEP_UP_SIGNER) private readonly signer: StepUpProofSigner,
    private readonly ceremonies: PasskeyCeremonies,
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async withPin(personId: string, pin: string, ceiling: AmountCeiling, actor: string): Promise<StepUpProofView> {
    const outcome = await this.store.change(personId, actor, async (change) => {
      await this.assertMayPay(change);
      const check = await this.pins.check(change, pin);
      if (!check.ok) return check;
      return { ok: true as const, proof: await this.grant(change, 'pin', ceiling) };
    });
    if (!outcome.ok) throw outcome.refusal;
    return outcome.proof;
  }

  /** WebAuthn request options whose challenge is bound to this person and this ceiling. */
  passkeyOptions(personId: string, ceiling: AmountCeiling, actor: string): Promise<PasskeyAuthenticationOptionsView> {
    return this.store.change(personId, actor, async (change) => {
      await this.assertMayPay(change);
      return this.ceremonies.authenticationOptions(change, ceiling);
    });
  }

  /** A verified passkey assertion (user verified) earns the same proof as the right PIN, method `biometric`. */
  async withPasskey(personId: string, credential: AuthenticationCredentialBody, ceiling: AmountCeiling, actor: string): Promise<StepUpProofView> {
    const outcome = await this.store.change(personId, actor, async (change) => {
      await this.assertMayPay(change);
      const verified = await this.ceremonies.verifyAuthentication(change, credential, ceiling);
      if (!verified.ok) return verified;
      return { ok: true as const, proof: await this.grant(change, 'biometric', ceiling) };
    });
    if (!outcome.ok) throw outcome.refusal;
    return outcome.proof;
  }

  private async assertMayPay(change: WalletChange): Promise<void> {
    const wallet = await change.wallet();
    this.rollout.policy.assertLive(wallet.country);
  }

  private async grant(change: WalletChange, method: StepUpMethod, ceiling: AmountCeiling): Promise<StepUpProofView> {
    const { proof, grant } = await this.signer.sign({
      personId: change.personId,
      ceiling,
      method,
      now: this.clock.now(),
    });
    const expiresAt = grant.expiresAt.toISOString();
    change.emit(StepUpGrantedV1, { proofId: grant.proofId, method, ceiling: { amount: ceiling.amount, currency: ceiling.currency }, expiresAt });
    return { proof, proofId: grant.proofId, method, ceiling: { amount: ceiling.amount, currency: ceiling.currency }, expiresAt };
  }
}
