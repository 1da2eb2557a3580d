import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { ActsForPerson, AllowDelegated, describeActor, Principal, Roles } from '@pay/auth';
import { IsString, Length, ValidateIf } from 'class-validator';
import { PersonParams } from '../http/route-params';
import { ContactView } from '../view-wallet/wallet-view';
import { UpdateContact } from './update-contact.service';

export class ContactRequest {
  @ApiPropertyOptional({ example: 'ana@example.com', nullable: true, description: 'Omit to keep, null to remove. Stored encrypted.' })
  @ValidateIf((_request, value) => value !== undefined && value !== null)
  @IsString()
  @Length(3, 254)
  email?: string | null;

  @ApiPropertyOptional({ example: '+4915112345678', nullable: true, description: 'International format. Omit to keep, null to remove. Stored encrypted.' })
  @ValidateIf((_request, value) => value !== undefined && value !== null)
  @IsString()
  @Length(5, 24)
  phone?: string | null;
}

@ApiTags('wallet')
@ApiBearerAuth()
@Controller('v1/wallets/:personId/contact')
@Roles('person')
@ActsForPerson()
@AllowDelegated()
export class UpdateContactController {
  constructor(private readonly updateContact: UpdateContact) {}

  @Put()
  @ApiOperation({ summary: 'Set or remove the contact e-mail and phone for receipts' })
  @ApiOkResponse({ type: ContactView })
  update(@Param() params: PersonParams, @Body() body: ContactRequest, @Principal() caller: Caller): Promise<ContactView> {
    return this.updateContact.update(params.personId, { email: body.email, phone: body.phone }, describeActor(caller));
  }
}
