import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class UnblockPinRequest {
  @ApiProperty({ example: 'SUP-2026-004211', description: 'The support case in which the person was re-verified (3 to 100 of letters, digits, . _ : -).' })
  @Matches(/^[A-Za-z0-9._:-]{3,100}$/, { message: 'caseReference must be the support case id: 3 to 100 of letters, digits, ".", "_", ":" and "-"' })
  caseReference!: string;
}
