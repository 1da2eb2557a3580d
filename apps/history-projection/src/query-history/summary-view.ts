import { ApiProperty } from '@nestjs/swagger';

export class FlowView {
  @ApiProperty({ description: 'Payments on which money moved.' })
  payments!: number;

  @ApiProperty({ example: '10000', description: 'Captured by those payments (minor units).' })
  captured!: string;

  @ApiProperty({ example: '1500', description: 'Given back by refunds.' })
  refunded!: string;

  @ApiProperty({ example: '0', description: 'Taken back by lost disputes.' })
  chargedBack!: string;

  @ApiProperty({ example: '8500', description: 'captured - refunded - chargedBack.' })
  net!: string;
}

export class PaidFlowView extends FlowView {
  @ApiProperty({ example: '2000', description: 'The part of `net` paid from the wallet balance.' })
  netFromWalletBalance!: string;
}

export class CurrencySummaryView {
  @ApiProperty({ example: 'EUR' })
  currency!: string;

  @ApiProperty({ type: PaidFlowView, required: false, description: 'What the person paid (persons only).' })
  paid?: PaidFlowView;

  @ApiProperty({ type: FlowView, description: 'What the person or business received.' })
  received!: FlowView;

  @ApiProperty({ required: false, example: '6500', description: "A person's wallet balance change: received.net - paid.netFromWalletBalance." })
  walletBalanceChange?: string;

  @ApiProperty({
    example: '8350',
    description:
      "Posted balance of the party's ledger accounts (a business's payable, a person's wallet), as the ledger's events tell it: after the platform's fees. Not narrowed by filters other than `to`.",
  })
  ledgerBalance!: string;
}

export class SummaryView {
  @ApiProperty({ type: [CurrencySummaryView] })
  currencies!: CurrencySummaryView[];
}

export interface SummaryRow {
  side: 'payer' | 'payee' | 'ledger';
  currency: string;
  kind: string;
  settled: string;
  net: string;
  wallet_net: string;
}

function emptyFlow(): { payments: number; captured: bigint; refunded: bigint; chargedBack: bigint; net: bigint; wallet: bigint } {
  return { payments: 0, captured: 0n, refunded: 0n, chargedBack: 0n, net: 0n, wallet: 0n };
}

/** Sums the rows of `summaryQuery` into per-currency flows. */
export function summaryView(rows: readonly SummaryRow[], person: boolean): SummaryView {
  const byCurrency = new Map<string, { paid: ReturnType<typeof emptyFlow>; received: ReturnType<typeof emptyFlow>; ledger: bigint }>();
  for (const row of rows) {
    const flows = byCurrency.get(row.currency) ?? { paid: emptyFlow(), received: emptyFlow(), ledger: 0n };
    byCurrency.set(row.currency, flows);
    if (row.side === 'ledger') {
      flows.ledger += BigInt(row.net);
      continue;
    }
    const flow = row.side === 'payer' ? flows.paid : flows.received;
    const net = BigInt(row.net);
    flow.net += net;
    flow.wallet += BigInt(row.wallet_net);
    if (row.kind === 'refund') flow.refunded -= net;
    else if (row.kind === 'chargeback') flow.chargedBack -= net;
    else {
      flow.captured += net;
      flow.payments += Number(row.settled);
    }
  }
  const text = (flow: ReturnType<typeof emptyFlow>): FlowView => ({
    payments: flow.payments,
    captured: flow.captured.toString(),
    refunded: flow.refunded.toString(),
    chargedBack: flow.chargedBack.toString(),
    net: flow.net.toString(),
  });
  return {
    currencies: [...byCurrency.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, flows]) =>
        person
          ? {
              currency,
              paid: { ...text(flows.paid), netFromWalletBalance: flows.paid.wallet.toString() },
              received: text(flows.received),
              walletBalanceChange: (flows.received.net - flows.paid.wallet).toString(),
              ledgerBalance: flows.ledger.toString(),
            }
          : { currency, received: text(flows.received), ledgerBalance: flows.ledger.toString() },
      ),
  };
}
