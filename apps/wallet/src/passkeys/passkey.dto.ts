import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, Equals, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import { PersonParams } from '../http/route-params';

/** WebAuthn's binary fields travel as base64url without padding (what @simplewebauthn/browser sends). */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const base64url = (field: string, max: number): PropertyDecorator[] => [
  IsString({ message: `${field} must be a base64url string` }),
  Length(1, max, { message: `${field} must be 1 to ${max} base64url characters` }),
  Matches(BASE64URL, { message: `${field} must be base64url (A-Z, a-z, 0-9, "-", "_", no padding)` }),
];

export const PASSKEY_TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] as const;

export class PasskeyParams extends PersonParams {
  @ApiProperty({ format: 'uuid', example: '0b7e3f4a-51a2-4c1e-9d0b-2f4b8e7c6a10' })
  @IsUUID('all', { message: 'passkeyId must be a UUID' })
  passkeyId!: string;
}

/** `AuthenticatorAttestationResponseJSON`: what the device answered to `navigator.credentials.create()`. */
export class AttestationResponseBody {
  @ApiProperty({ description: 'base64url' })
  @applyDecorators(...base64url('credential.response.clientDataJSON', 4_096))
  clientDataJSON!: string;

  @ApiProperty({ description: 'base64url (CBOR)' })
  @applyDecorators(...base64url('credential.response.attestationObject', 32_768))
  attestationObject!: string;

  @ApiPropertyOptional({ description: 'base64url' })
  @IsOptional()
  @applyDecorators(...base64url('credential.response.authenticatorData', 16_384))
  authenticatorData?: string;

  @ApiPropertyOptional({ enum: PASSKEY_TRANSPORTS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(PASSKEY_TRANSPORTS.length)
  @IsIn(PASSKEY_TRANSPORTS, { each: true, message: `credential.response.transports may hold only ${PASSKEY_TRANSPORTS.join(', ')}` })
  transports?: string[];

  @ApiPropertyOptional({ description: 'COSE algorithm identifier, e.g. -7 (ES256)' })
  @IsOptional()
  @IsInt()
  publicKeyAlgorithm?: number;

  @ApiPropertyOptional({ description: 'base64url (SPKI)' })
  @IsOptional()
  @applyDecorators(...base64url('credential.response.publicKey', 4_096))
  publicKey?: string;
}

/** `AuthenticatorAssertionResponseJSON`: what the device answered to `navigator.credentials.get()`. */
export class AssertionResponseBody {
  @ApiProperty({ description: 'base64url' })
  @applyDecorators(...base64url('credential.response.clientDataJSON', 4_096))
  clientDataJSON!: string;

  @ApiProperty({ description: 'base64url' })
  @applyDecorators(...base64url('credential.response.authenticatorData', 16_384))
  authenticatorData!: string;

  @ApiProperty({ description: 'base64url' })
  @applyDecorators(...base64url('credential.response.signature', 1_024))
  signature!: string;

  @ApiPropertyOptional({ description: 'base64url; the user handle the wallet gave at registration' })
  @IsOptional()
  @applyDecorators(...base64url('credential.response.userHandle', 128))
  userHandle?: string;
}

/** Fields common to both ceremonies' `PublicKeyCredential.toJSON()`. */
abstract class PublicKeyCredentialBody {
  @ApiProperty({ description: 'The credential id, base64url' })
  @applyDecorators(...base64url('credential.id', 1_400))
  id!: string;

  @ApiProperty({ description: 'The same id, base64url' })
  @applyDecorators(...base64url('credential.rawId', 1_400))
  rawId!: string;

  @ApiPropertyOptional({ enum: ['platform', 'cross-platform'] })
  @IsOptional()
  @IsIn(['platform', 'cross-platform'], { message: 'credential.authenticatorAttachment must be platform or cross-platform' })
  authenticatorAttachment?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Client extension results (may be empty: {})' })
  @IsObject({ message: 'credential.clientExtensionResults must be an object ({} when there are none)' })
  clientExtensionResults!: Record<string, unknown>;

  @ApiProperty({ enum: ['public-key'] })
  @Equals('public-key', { message: 'credential.type must be "public-key"' })
  type!: 'public-key';
}

/** `RegistrationResponseJSON` of @simplewebauthn/browser's `startRegistration()`. */
export class RegistrationCredentialBody extends PublicKeyCredentialBody {
  @ApiProperty({ type: AttestationResponseBody })
  @IsObject({ message: 'credential.response must be an object (the authenticator attestation response)' })
  @ValidateNested()
  @Type(() => AttestationResponseBody)
  response!: AttestationResponseBody;
}

/** `AuthenticationResponseJSON` of @simplewebauthn/browser's `startAuthentication()`. */
export class AuthenticationCredentialBody extends PublicKeyCredentialBody {
  @ApiProperty({ type: AssertionResponseBody })
  @IsObject({ message: 'credential.response must be an object (the authenticator assertion response)' })
  @ValidateNested()
  @Type(() => AssertionResponseBody)
  response!: AssertionResponseBody;
}

export class RegisterPasskeyRequest {
  @ApiProperty({ example: 'iPhone 16', description: 'A name the person recognises the device by: 1 to 60 characters.' })
  @IsString()
  @Length(1, 60, { message: 'deviceName must be 1 to 60 characters' })
  @Matches(/^[^\p{Cc}]+$/u, { message: 'deviceName must not contain control characters' })
  deviceName!: string;

  @ApiProperty({ type: RegistrationCredentialBody, description: 'What startRegistration() returned, unchanged.' })
  @IsObject({ message: 'credential must be what startRegistration() returned' })
  @ValidateNested()
  @Type(() => RegistrationCredentialBody)
  credential!: RegistrationCredentialBody;
}

export class PasskeyView {
  @ApiProperty({ format: 'uuid' })
  passkeyId!: string;

  @ApiProperty({ example: 'iPhone 16' })
  deviceName!: string;

  @ApiProperty({ enum: PASSKEY_TRANSPORTS, isArray: true, description: 'How the browser reaches the authenticator (hints for the next ceremony).' })
  transports!: string[];

  @ApiProperty({ description: 'Synced passkey (backed up, e.g. iCloud Keychain or Google Password Manager) or bound to one device.' })
  backedUp!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'The last payment confirmed with it; null if never used.' })
  lastUsedAt!: string | null;
}

/** The options of a ceremony, to hand unchanged to @simplewebauthn/browser. */
export class PasskeyRegistrationOptionsView {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      "PublicKeyCredentialCreationOptionsJSON: pass it as `startRegistration({ optionsJSON })`. userVerification is 'required'; the challenge is single-use.",
  })
  options!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time', description: 'The challenge is refused after this.' })
  expiresAt!: string;
}

export class PasskeyAuthenticationOptionsView {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      "PublicKeyCredentialRequestOptionsJSON: pass it as `startAuthentication({ optionsJSON })`. Lists the person's passkeys; userVerification is 'required'; the challenge is single-use and bound to the ceiling.",
  })
  options!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time', description: 'The challenge is refused after this.' })
  expiresAt!: string;
}
