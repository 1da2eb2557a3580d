import { ApiProperty } from '@nestjs/swagger';
import { IsUUID, Matches } from 'class-validator';

export const PERSON_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Routes that act on one person's wallet. */
export class PersonParams {
  @ApiProperty({ description: 'The person whose wallet this is. A person may only name themselves.', example: 'person-42' })
  @Matches(PERSON_ID_PATTERN, { message: 'personId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  personId!: string;
}

export class MethodParams extends PersonParams {
  @ApiProperty({ format: 'uuid', example: '7f1d3c1e-8a47-4f55-b2d4-7f8a9e0c1b23' })
  @IsUUID('all', { message: 'methodId must be a UUID' })
  methodId!: string;
}
