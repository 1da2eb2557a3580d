/**
 * `npm run bench:contracts`: CPU per parse of an incoming event (JSON text → validated envelope),
 * the work every consumer does once per message it handles. Prints µs per parse (user + system
 * CPU of this process, after a warm-up), the median of BENCH_ROUNDS rounds.
 */
import { cpus, type } from 'node:os';
import { IsWholeNumber, loadConfig } from '@pay/config';
import { EVENT_EXAMPLES, parseEvent } from '@pay/contracts';

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

function microsPerParse(text: string, parses: number): number {
  const started = process.cpuUsage();
  for (let i = 0; i < parses; i += 1) parseEvent(JSON.parse(text));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / parses;
}

function main(): void {
  const config = loadConfig('bench:contracts', ContractsBenchConfig);
  const cpu = cpus()[0]?.model.trim() ?? 'cpu';
  console.log(`bench:contracts — ${type()} ${cpus().length} × ${cpu}, Node ${process.version}`);
  for (const [eventType, text] of Object.entries(MESSAGES)) {
    microsPerParse(text, Math.min(config.BENCH_PARSES, 5_000)); // warm-up: JIT and caches
    const rounds = Array.from({ length: config.BENCH_ROUNDS }, () => microsPerParse(text, config.BENCH_PARSES)).sort((a, b) => a - b);
    const median = rounds[Math.floor(rounds.length / 2)];
    console.log(
      `  ${eventType.padEnd(32)} ${median.toFixed(1)} µs CPU per parse (median of ${rounds.length}; min ${rounds[0].toFixed(1)}, max ${rounds.at(-1)!.toFixed(1)})`,
    );
  }
}

main();
