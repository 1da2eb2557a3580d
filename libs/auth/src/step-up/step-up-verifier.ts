import type { Money } from '@pay/contracts';
import { toMinorUnits } from '@pay/contracts';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { keySetFailuresAs } from '../key-set';
import type { StepUpGrant, StepUpMethod } from './step-up-proof';
import {
  STEP_UP_ALGORITHMS,
  STEP_UP_AUDIENCE,
  STEP_UP_MAX_LIFETIME_SECONDS,
  STEP_UP_METHODS,
  STEP_UP_PROOF_TYPE,
  StepUpKeysUnavailableError,
  StepUpProofError,
} from './step-up-proof';

export interface StepUpVerifierOptions {
  /** The wallet's public keys inline (`STEP_UP_JWKS`)… */
  jwks?: JSONWebKeySet;
  /** …or where the wallet publishes them (`STEP_UP_JWKS_URL`, the wallet's `/.well-known/step-up-jwks.json`). */
  jwksUrl?: string;
  /** How long a fetch of `jwksUrl` may take before the keys count as unavailable (default 3 s). */
  jwksTimeoutMs?: number;
  /** The wallet's issuer name (`STEP_UP_ISSUER`). */
  issuer: string;
  clockToleranceSeconds?: number;
  /** Makes each proof single-use; payment services back it with a unique key in their database. */
  replayGuard?: StepUpReplayGuard;
}

/** Records proof ids as used; `false` when the id was already used. */
export interface StepUpReplayGuard {
  consume(proofId: string, expiresAt: Date): Promise<boolean>;
}

export interface StepUpExpectation {
  /** The person paying. */
  personId: string;
  /** The payment's amount. */
  amount: Money;
  /** Verification time (tests); defaults to now. */
  now?: Date;
}

const MINOR_UNITS = /^[1-9][0-9]{0,18}$/;

/** The key lookup, with every failure to have the keys turned into StepUpKeysUnavailableError (key-set.ts). */
function unavailableWhenKeysAreMissing(lookup: JWTVerifyGetKey): JWTVerifyGetKey {
  return keySetFailuresAs(
    lookup,
    (cause) => new StepUpKeysUnavailableError("the wallet's step-up keys could not be fetched, so the proof was not checked; try again shortly", { cause }),
  );
}

/**
 * Verifies a step-up proof for one payment: signed by the wallet with an accepted algorithm
 * and type, not expired, issued to this person, for this currency, with a ceiling at or above
 * the amount. Every refusal is a StepUpProofError with a reason.
 *
 * When the wallet's keys cannot be had (`jwksUrl` down, slow, answering 5xx or garbage), the
 * answer is a StepUpKeysUnavailableError instead: not a refusal, the proof is simply not checked
 * yet. A proof that is not even a JWS, or names an algorithm we do not accept, is refused without
 * fetching anything; one naming a key the fetched set does not hold is refused (`bad-signature`).
 */
export class StepUpProofVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: StepUpVerifierOptions) {
    if (options.jwks) this.keys = unavailableWhenKeysAreMissing(createLocalJWKSet(options.jwks));
    else if (options.jwksUrl)
      this.keys = unavailableWhenKeysAreMissing(createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 3_000 }));
    else throw new Error("a step-up verifier needs the wallet's public keys: STEP_UP_JWKS or STEP_UP_JWKS_URL");
  }

  async verify(proof: string, expected: StepUpExpectation): Promise<StepUpGrant> {
    const payload = await this.verifySignature(proof, expected.now);
    const grant = toGrant(payload);
    if (grant.expiresAt.getTime() - grant.issuedAt.getTime() > STEP_UP_MAX_LIFETIME_SECONDS * 1000) {
      throw new StepUpProofError('malformed', `a step-up proof may live at most ${STEP_UP_MAX_LIFETIME_SECONDS} seconds`);
    }
    if (grant.personId !== expected.personId) throw new StepUpProofError('wrong-person', 'the step-up proof was issued to another person');
    if (grant.ceiling.currency !== expected.amount.currency) {
      throw new StepUpProofError('currency-mismatch', `the step-up proof is for ${grant.ceiling.currency}, the payment is in ${expected.amount.currency}`);
    }
    if (toMinorUnits(expected.amount) > toMinorUnits(grant.ceiling)) {
      throw new StepUpProofError('amount-above-ceiling', 'the payment is above the amount the step-up proof allows');
    }
    if (this.options.replayGuard && !(await this.options.replayGuard.consume(grant.proofId, grant.expiresAt))) {
      throw new StepUpProofError('already-used', 'this step-up proof was already used');
    }
    return grant;
  }

  private async verifySignature(proof: string, now?: Date): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(proof, this.keys, {
        issuer: this.options.issuer,
        audience: STEP_UP_AUDIENCE,
        typ: STEP_UP_PROOF_TYPE,
        algorithms: [...STEP_UP_ALGORITHMS],
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        currentDate: now,
      });
      return payload;
    } catch (error) {
      // Not the proof's fault: it stays unchecked, to be asked again (never a refusal).
      if (error instanceof StepUpKeysUnavailableError) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new StepUpProofError('expired', 'the step-up proof has expired; confirm the payment again');
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JOSE_ALG_NOT_ALLOWED') {
        throw new StepUpProofError('bad-signature', 'the step-up proof is not signed by the wallet');
      }
      throw new StepUpProofError('malformed', 'the step-up proof is not a valid wallet proof');
    }
  }
}

function toGrant(payload: JWTPayload): StepUpGrant {
  const { sub, jti, iat, exp, amr, max_amount: maxAmount, currency } = payload as JWTPayload & Record<string, unknown>;
  const method = Array.isArray(amr) && amr.length === 1 ? (amr[0] as unknown) : undefined;
  if (
    typeof sub !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof maxAmount !== 'string' ||
    !MINOR_UNITS.test(maxAmount) ||
    typeof currency !== 'string' ||
    !/^[A-Z]{3}$/.test(currency) ||
    !(STEP_UP_METHODS as readonly unknown[]).includes(method)
  ) {
    throw new StepUpProofError('malformed', 'the step-up proof lacks a person, id, amount ceiling, currency or method');
  }
  return {
    proofId: jti,
    personId: sub,
    ceiling: { amount: maxAmount, currency },
    method: method as StepUpMethod,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  };
}
