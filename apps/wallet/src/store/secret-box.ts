import { Inject, Injectable } from '@nestjs/common';
import type { DataKeyRow, DataKeyStore } from '@pay/encryption';
import type { Sql } from '@pay/platform';
import { dataKeyIdOf, decryptField, encryptField } from '@pay/encryption';

export const DATA_KEY_STORE = Symbol('DataKeyStore');

/**
 * Seals a person's secrets (IBAN, holder name, PayPal e-mail, PSP tokens, contact details, the
 * PIN hash) with that person's data key, and opens them again. `context` names where the value
 * lives (e.g. `payment-method:<id>:secret`): a sealed value copied anywhere else will not open.
 */
@Injectable()
export class SecretBox {
  constructor(@Inject(DATA_KEY_STORE) private readonly keys: DataKeyStore) {}

  async seal(sql: Sql, personId: string, plaintext: string, context: string): Promise<string> {
    return encryptField(await this.keys.forOwner(sql, personId), plaintext, context);
  }

  async open(sql: Sql, stored: string, context: string): Promise<string> {
    return decryptField(await this.keys.byId(sql, dataKeyIdOf(stored)), stored, context);
  }

  /**
   * Opens with a data key row the caller read in its own statement (the person's key, joined);
   * reads the key the value names if that is another one.
   */
  async openWith(sql: Sql, key: DataKeyRow | undefined, stored: string, context: string): Promise<string> {
    if (!key || key.id !== dataKeyIdOf(stored)) return this.open(sql, stored, context);
    return decryptField(await this.keys.unwrap(key), stored, context);
  }
}

export const secretContext = {
  contactEmail: (personId: string) => `wallet:${personId}:contact-email`,
  contactPhone: (personId: string) => `wallet:${personId}:contact-phone`,
  pinHash: (personId: string) => `pin:${personId}:hash`,
  method: (methodId: string) => `payment-method:${methodId}:secret`,
};
