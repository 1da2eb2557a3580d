import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, describeActor, Principal, Roles } from '@pay/auth';
import { ApiError } from '../http/api-error';
import { PersonParams } from '../http/route-params';
import { PaymentMethodView } from '../view-payment-methods/payment-method-view';
import { AddBankAccountRequest, AddCardRequest, AddPaypalAccountRequest, AddStripeCustomerRequest, AddUsBankAccountRequest } from './add-payment-method.dto';
import { AddPaymentMethod } from './add-payment-method.service';

@ApiTags('payment methods')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/payment-methods')
@Roles('person', 'service')
@ActsForPerson()
@ApiBadRequestResponse({
  type: ApiError,
  description:
    'VALIDATION_FAILED, CARD_NUMBER_REFUSED (a field holds a card number), CARD_EXPIRED, IBAN_INVALID, ROUTING_NUMBER_INVALID, BANK_ACCOUNT_REFUSED (the PSP refused the account)…',
})
@ApiConflictResponse({ type: ApiError, description: 'TOO_MANY_PAYMENT_METHODS; BANK_CONNECTION_INCOMPLETE (no account linked in the session)' })
export class AddPaymentMethodController {
  constructor(private readonly addPaymentMethod: AddPaymentMethod) {}

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
  addBankAccount(@Param() params: PersonParams, @Body() body: AddBankAccountRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.addPaymentMethod.addBankAccount(params.personId, describeActor(caller), body);
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
  addUsBankAccount(@Param() params: PersonParams, @Body() body: AddUsBankAccountRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.addPaymentMethod.addUsBankAccount(params.personId, describeActor(caller), body);
  }

  @Post('stripe-customers')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Save a Stripe customer (and optionally which of its payment methods to charge)' })
  @ApiCreatedResponse({ type: PaymentMethodView })
  addStripeCustomer(@Param() params: PersonParams, @Body() body: AddStripeCustomerRequest, @Principal() caller: Caller): Promise<PaymentMethodView> {
    return this.addPaymentMethod.addStripeCustomer(params.personId, describeActor(caller), body);
  }
}
