import { FUNDS_COMMAND_ATTESTATION_HEADER } from '@pay/contracts';
import type { JWK } from 'jose';
import type { TypedJwsKind } from './typed-jws';
import { TypedJwsSigner } from './typed-jws';
import { PAYMENT_ORCHESTRATION_SUBJECT } from './service-tokens';

/**
 * payment-orchestration attests each funds command it writes to wallet.commands.v1 (header
 * `FUNDS_COMMAND_ATTESTATION_HEADER` of libs/contracts): a JWS signed with its own key
 * (`SERVICE_TOKEN_SIGNING_JWK`) holding the whole command. Kafka does not tell the wallet which
 * principal wrote a record, so the ACLs alone decide who may move money there; with this the wallet
 * also refuses (dead-letters) a command that any other writer (the super user, a misapplied ACL, a
 * cluster without them) put on the topic.
 */
export { FUNDS_COMMAND_ATTESTATION_HEADER };

/** The subject and scope orchestration's grant in `AUTH_KEY_GRANTS` must hold to attest funds commands. */
export const FUNDS_COMMAND_SCOPE = 'funds:command';

/**
 * The kind: orchestration's key, a week at most (a command may wait in the outbox or behind the
 * wallet's lag; a copy only repeats the same command, which the wallet answers once by its id).
 */
export const FUNDS_COMMAND_ATTESTATION: TypedJwsKind = {
  name: 'funds command attestation',
  type: 'funds-command+jwt',
  subject: PAYMENT_ORCHESTRATION_SUBJECT,
  scope: FUNDS_COMMAND_SCOPE,
  lifetimeSeconds: 7 * 24 * 3600,
  withId: false,
};

/** A command as JSON carries it (no undefined members, no class instances): what is signed and compared. */
export function fundsCommandAsJson(command: object): unknown {
  return JSON.parse(JSON.stringify(command));
}

/** Signs orchestration's funds commands (the `FUNDS_COMMAND_ATTESTATION_HEADER` value of each). */
export class FundsCommandAttester {
  private constructor(private readonly signer: TypedJwsSigner) {}

  static async create(privateJwk: JWK, claims: { issuer: string; audience: string }, now?: () => number): Promise<FundsCommandAttester> {
    return new FundsCommandAttester(await TypedJwsSigner.create(FUNDS_COMMAND_ATTESTATION, privateJwk, claims, now));
  }

  attest(command: object): Promise<string> {
    return this.signer.sign({ command: fundsCommandAsJson(command) });
  }
}
