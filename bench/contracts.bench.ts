/**
 * `npm run bench:contracts`: CPU per parse of an incoming event (JSON text → validated envelope),
 * the work every consumer does once per message it handles. Prints µs per parse (user + system
 * CPU of this process, after a warm-up), the median of BENCH_ROUNDS rounds. Then a paired A/B in
 * this process, blocks alternating: parseEvent (its fast path) against parseEventWithClassValidator
 * (class-validator alone, as before the fast path), and the same for the wallet's instrument answer.
 */
import { cpus, type } from 'node:os';
import { IsWholeNumber, loadConfig } from '@pay/config';
import { EVENT_EXAMPLES, parseEvent, parseEventWithClassValidator, readPaymentInstrument, readPaymentInstrumentWithClassValidator } from '@pay/contracts';

class ContractsBenchConfig {
  /** Parses per round. */
  @IsWholeNumber({ min: 1_000, max: 10_000_000, unit: 'parses' })
  BENCH_PARSES = 20_000;

  /** Rounds; the median is printed. */
  @IsWholeNumber({ min: 1, max: 99, unit: 'rounds' })
  BENCH_ROUNDS = 5;
}

// The example of each event type that docs/asyncapi.yaml shows (the purchase request another team's
// service publishes, as a start), parsed as a consumer parses it.
const MESSAGES: Record<string, string> = Object.fromEntries(Object.entries(EVENT_EXAMPLES).map(([type, example]) => [type, JSON.stringify(example)]));

// A card, as orchestration reads it from the wallet before each card payment.
const INSTRUMENT = JSON.stringify({
  methodId: '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44',
  kind: 'card',
  credentials: { pspToken: 'pm_card_visa', customer: 'cus_ABC123def' },
});

function microsPerParse(text: string, parses: number, parse: (raw: unknown) => unknown = parseEvent): number {
  const started = process.cpuUsage();
  for (let i = 0; i < parses; i += 1) parse(JSON.parse(text));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / parses;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Blocks alternating before / after in this process, so both see the same machine load. */
function pairedAB(label: string, text: string, before: (raw: unknown) => unknown, after: (raw: unknown) => unknown, parses: number): void {
  const pairs = 20;
  const block = Math.max(500, Math.floor(parses / 10));
  microsPerParse(text, block, before);
  microsPerParse(text, block, after);
  const a: number[] = [];
  const b: number[] = [];
  for (let pair = 0; pair < pairs; pair += 1) {
    a.push(microsPerParse(text, block, before));
    b.push(microsPerParse(text, block, after));
  }
  const ratios = a.map((value, index) => b[index] / value);
  console.log(
    `  ${label.padEnd(32)} class-validator ${median(a).toFixed(1)} µs, fast path ${median(b).toFixed(1)} µs per parse (medians of ${pairs} pairs of ${block}; after/before ${median(ratios).toFixed(2)})`,
  );
}

function main(): void {
  const config = loadConfig('bench:contracts', ContractsBenchConfig);
  const cpu = cpus()[0]?.model.trim() ?? 'cpu';
  console.log(`bench:contracts — ${type()} ${cpus().length} × ${cpu}, Node ${process.version}`);
  for (const [eventType, text] of Object.entries(MESSAGES)) {
    microsPerParse(text, Math.min(config.BENCH_PARSES, 5_000)); // warm-up: JIT and caches
    const rounds = Array.from({ length: config.BENCH_ROUNDS }, () => microsPerParse(text, config.BENCH_PARSES)).sort((a, b) => a - b);
    console.log(
      `  ${eventType.padEnd(32)} ${median(rounds).toFixed(1)} µs CPU per parse (median of ${rounds.length}; min ${rounds[0].toFixed(1)}, max ${rounds.at(-1)!.toFixed(1)})`,
    );
  }
  console.log('paired A/B, same process:');
  for (const [eventType, text] of Object.entries(MESSAGES)) pairedAB(eventType, text, parseEventWithClassValidator, parseEvent, config.BENCH_PARSES);
  pairedAB('payment instrument (card)', INSTRUMENT, readPaymentInstrumentWithClassValidator, readPaymentInstrument, config.BENCH_PARSES);
}

main();
