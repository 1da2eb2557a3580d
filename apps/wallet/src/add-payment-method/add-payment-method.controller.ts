import { Body, Controller, Headers, HttpCode, HttpStatus, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { AccessTokenVerifier, Principal as Caller, MandateAttestation, MandatedAccount } from '@pay/auth';
import {
  ACCESS_TOKEN_VERIFIER,
  ActsForPerson,
  AllowDelegated,
  AuthenticationError,
  describeActor,
  KeySetUnavailableError,
  MANDATE_ATTESTATION_HEADER,
  mandateAccountDigest,
  Principal,
  Roles,
} from '@pay/auth';
import { WalletError } from '../domain/wallet-error';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { PaymentMethodView } from '../view-payment-methods/payment-method-view';
import { AddBankAccountRequest, AddCardRequest, AddPaypalAccountRequest, AddStripeCustomerRequest, AddUsBankAccountRequest } from './add-payment-method.dto';
import { AddPaymentMethod } from './add-payment-method.service';

const MANDATE_HEADER_DOC = {
  name: 'Mandate-Attestation',
  required: true,
  description:
    "The Pay Hub's signed attestation (mandate-attestation+jwt) of the person's acceptance of the mandate it showed: the text's version, the address and user agent it saw, when; for this person and account",
};
const MANDATE_REFUSAL_DOC =
  'MANDATE_NOT_ATTESTED: no attestation, or one not signed by a key registered to attest mandates, expired, or for another person or account';

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
@ApiBadRequestResponse({
  type: ApiError,
  description:
    'VALIDATION_FAILED, CARD_NUMBER_REFUSED (a field holds a card number), CARD_EXPIRED, IBAN_INVALID, ROUTING_NUMBER_INVALID, BANK_ACCOUNT_REFUSED (the PSP refused the account, or the SEPA holder’s e-mail: `field` says which)…',
})
@ApiConflictResponse({ type: ApiError, description: 'TOO_MANY_PAYMENT_METHODS; BANK_CONNECTION_INCOMPLETE (no account linked in the session)' })
export class AddPaymentMethodController {
  constructor(
    private readonly addPaymentMethod: AddPaymentMethod,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
  ) {}

  @Post('cards')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Save a card the PSP tokenised (token, brand, last4, expiry, country; never the number or CVC)' })
  @ApiCreatedResponse({ type: PaymentMethodView })
  addCard(@Param() params: PersonParams, @Body() body: AddCardRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.addPaymentMethod.addCard(params.personId, describeActor(caller), body);
  }

  @Post('paypal-accounts')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Save a PayPal account' })
  @ApiCreatedResponse({ type: PaymentMethodView })
  addPaypal(@Param() params: PersonParams, @Body() body: AddPaypalAccountRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.addPaymentMethod.addPaypalAccount(params.personId, describeActor(caller), body);
  }

  @Post('bank-accounts')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary:
      'Save a bank account for SEPA Direct Debit (IBAN stored encrypted, shown as its last four); saved once at the PSP under the mandate, each purchase debits that saved method',
  })
  @ApiCreatedResponse({ type: PaymentMethodView })
  @ApiServiceUnavailableResponse({ type: ApiError, description: 'BANK_VERIFICATION_UNAVAILABLE: the payment provider could not be reached; try again' })
  @ApiHeader(MANDATE_HEADER_DOC)
  @ApiForbiddenResponse({ type: ApiError, description: MANDATE_REFUSAL_DOC })
  async addBankAccount(
    @Param() params: PersonParams,
    @Body() body: AddBankAccountRequest,
    @Headers(MANDATE_ATTESTATION_HEADER) attestation: string | undefined,
    @Principal() caller: Caller,
  ): Promise<PaymentMethodView> {
    const mandate = await this.attestedMandate(attestation, params.personId, { iban: body.iban });
    return this.addPaymentMethod.addBankAccount(params.personId, describeActor(caller), body, mandate);
  }

  @Post('us-bank-accounts')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary:
      'Save a US bank account for ACH debits: by its numbers (account number stored encrypted, shown as its last four; pending until its micro-deposits are verified), or linked at its bank in a Financial Connections session (financialConnectionsSession; verified at once)',
  })
  @ApiNotFoundResponse({ type: ApiError, description: "BANK_CONNECTION_NOT_FOUND: no such Financial Connections session of this person's" })
  @ApiCreatedResponse({ type: PaymentMethodView })
  @ApiServiceUnavailableResponse({ type: ApiError, description: 'BANK_VERIFICATION_UNAVAILABLE: the payment provider could not be reached; try again' })
  @ApiHeader(MANDATE_HEADER_DOC)
  @ApiForbiddenResponse({ type: ApiError, description: MANDATE_REFUSAL_DOC })
  async addUsBankAccount(
    @Param() params: PersonParams,
    @Body() body: AddUsBankAccountRequest,
    @Headers(MANDATE_ATTESTATION_HEADER) attestation: string | undefined,
    @Principal() caller: Caller,
  ): Promise<PaymentMethodView> {
    const account: MandatedAccount =
      body.financialConnectionsSession !== undefined
        ? { financialConnectionsSession: body.financialConnectionsSession }
        : { routingNumber: body.routingNumber ?? '', accountNumber: body.accountNumber ?? '' };
    const mandate = await this.attestedMandate(attestation, params.personId, account);
    return this.addPaymentMethod.addUsBankAccount(params.personId, describeActor(caller), body, mandate);
  }

  @Post('stripe-customers')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Save a Stripe customer (and optionally which of its payment methods to charge)' })
  @ApiCreatedResponse({ type: PaymentMethodView })
  addStripeCustomer(@Param() params: PersonParams, @Body() body: AddStripeCustomerRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.addPaymentMethod.addStripeCustomer(params.personId, describeActor(caller), body);
  }

  /**
   * The mandate's evidence, from the service that showed the mandate and saw the acceptance (the
   * Pay Hub: its key's grant holds `mandates:attest`), for this person and this account; never
   * from the caller's own body. Without it, or with one for someone or something else: 403.
   */
  private async attestedMandate(header: string | undefined, personId: string, account: MandatedAccount): Promise<MandateAttestation> {
    const token = header?.trim();
    if (!token)
      throw mandateRefused(
        'a bank account is saved only with the attestation of the mandate acceptance by the service that showed it (Mandate-Attestation header)',
      );
    let attested: MandateAttestation;
    try {
      attested = await this.verifier.verifyMandateAttestation(token);
    } catch (error) {
      if (error instanceof AuthenticationError) throw mandateRefused(error.message);
      if (error instanceof KeySetUnavailableError) throw new WalletError('unavailable', 'AUTH_KEYS_UNAVAILABLE', error.message);
      throw error;
    }
    if (attested.personId !== personId) throw mandateRefused('the mandate attestation is for another person');
    if (attested.account !== mandateAccountDigest(account)) throw mandateRefused('the mandate attestation is for another account');
    return attested;
  }
}

function mandateRefused(message: string): WalletError {
  return new WalletError('refused', 'MANDATE_NOT_ATTESTED', message);
}
