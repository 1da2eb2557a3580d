import { Injectable } from '@nestjs/common';
import { ContactChangedV1 } from '@pay/contracts';
import { maskEmail, maskPhone, normalizeEmail, normalizePhone } from '../domain/contact';
import { SecretBox, secretContext } from '../store/secret-box';
import { WalletStore } from '../store/wallet-store';
import type { ContactView } from '../view-wallet/wallet-view';

/** `undefined`: keep as is; `null`: remove; a string: replace. */
export interface ContactUpdate {
  email?: string | null;
  phone?: string | null;
}

/** Contact details for receipts, sealed with the person's key; events only say whether each exists. */
@Injectable()
export class UpdateContact {
  constructor(
    private readonly store: WalletStore,
    private readonly secrets: SecretBox,
  ) {}

  update(personId: string, update: ContactUpdate, actor: string): Promise<ContactView> {
    const email = typeof update.email === 'string' ? normalizeEmail(update.email) : update.email;
    const phone = typeof update.phone === 'string' ? normalizePhone(update.phone) : update.phone;
    return this.store.change(personId, actor, async (change) => {
      const wallet = await change.wallet();
      const sealedEmail =
        email === undefined ? wallet.contact_email : email && (await this.secrets.seal(change.sql, personId, email, secretContext.contactEmail(personId)));
      const sealedPhone =
        phone === undefined ? wallet.contact_phone : phone && (await this.secrets.seal(change.sql, personId, phone, secretContext.contactPhone(personId)));
      if (email !== undefined || phone !== undefined) {
        await change.sql.query('UPDATE wallets SET contact_email = $2, contact_phone = $3 WHERE person_id = $1', [personId, sealedEmail, sealedPhone]);
        change.emit(ContactChangedV1, { hasEmail: sealedEmail !== null, hasPhone: sealedPhone !== null });
      }
      const view: ContactView = {};
      const shownEmail =
        email === undefined ? wallet.contact_email && (await this.secrets.open(change.sql, wallet.contact_email, secretContext.contactEmail(personId))) : email;
      const shownPhone =
        phone === undefined ? wallet.contact_phone && (await this.secrets.open(change.sql, wallet.contact_phone, secretContext.contactPhone(personId))) : phone;
      if (shownEmail) view.email = maskEmail(shownEmail);
      if (shownPhone) view.phone = maskPhone(shownPhone);
      return view;
    });
  }
}
