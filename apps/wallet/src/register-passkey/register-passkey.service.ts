import { Injectable } from '@nestjs/common';
import type { PasskeyRegistrationOptionsView, PasskeyView, RegistrationCredentialBody } from '../passkeys/passkey.dto';
import { PasskeyCeremonies } from '../passkeys/passkey-ceremonies';
import { passkeyView } from '../passkeys/passkey-store';
import { WalletStore } from '../store/wallet-store';

/** A person registers a passkey: options with a challenge, then the authenticator's answer verified and stored. */
@Injectable()
export class RegisterPasskey {
  constructor(
    private readonly store: WalletStore,
    private readonly ceremonies: PasskeyCeremonies,
  ) {}

  options(personId: string, actor: string): Promise<PasskeyRegistrationOptionsView> {
    return this.store.change(personId, actor, async (change) => {
      await change.wallet();
      return this.ceremonies.registrationOptions(change);
    });
  }

  async register(personId: string, deviceName: string, credential: RegistrationCredentialBody, actor: string): Promise<PasskeyView> {
    const outcome = await this.store.change(personId, actor, async (change) => {
      await change.wallet();
      const verified = await this.ceremonies.verifyRegistration(change, credential, deviceName);
      if (!verified.ok) return verified;
      return { ok: true as const, passkey: passkeyView(verified.value) };
    });
    if (!outcome.ok) throw outcome.refusal;
    return outcome.passkey;
  }
}
