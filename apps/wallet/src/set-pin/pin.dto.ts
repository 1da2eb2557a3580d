import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

const PIN = /^\d{4,6}$/;
const PIN_MESSAGE = 'a PIN is 4 to 6 digits';

export class SetPinRequest {
  @ApiProperty({ example: '730264', format: 'password', description: '4 to 6 digits; not one digit repeated nor a run like 1234.' })
  @Matches(PIN, { message: `pin: ${PIN_MESSAGE}` })
  pin!: string;
}

export class ChangePinRequest {
  @ApiProperty({ example: '730264', format: 'password' })
  @Matches(PIN, { message: `currentPin: ${PIN_MESSAGE}` })
  currentPin!: string;

  @ApiProperty({ example: '591837', format: 'password' })
  @Matches(PIN, { message: `newPin: ${PIN_MESSAGE}` })
  newPin!: string;
}
