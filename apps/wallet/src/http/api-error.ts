import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of every refusal: a stable code for programs, a sentence for people. */
export class ApiError {
  @ApiProperty({ example: 'PAYMENT_METHOD_NOT_FOUND' })
  code!: string;

  @ApiProperty({ example: 'this wallet has no payment method with that id' })
  message!: string;

  @ApiPropertyOptional({ description: 'The request field the refusal is about.', example: 'label' })
  field?: string;
}
