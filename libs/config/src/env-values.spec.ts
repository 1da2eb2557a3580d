import { ConfigError, loadConfig } from './validate-config';
import { IsConsumerGroupId, IsFlag, IsOneOf, IsTopicName, IsWholeNumber, parseFlag, parseWholeNumber, toList } from './env-values';

class Sample {
  @IsWholeNumber({ min: 1, max: 60, unit: 'seconds' })
  TIMEOUT_SECONDS = 5;

  @IsWholeNumber({ min: 1_000, max: 3_600_000, unit: 'milliseconds', zeroIsOff: true })
  INTERVAL_MS = 60_000;

  @IsWholeNumber({ min: 0, max: 65535, message: 'must be a whole number between 0 and 65535 (TCP port)' })
  PORT = 80;

  @IsFlag()
  ENABLED = false;

  @IsOneOf(['hour', 'day'])
  GRANULARITY = 'hour';

  @IsConsumerGroupId()
  CONSUMER_GROUP = 'sample';

  @IsTopicName()
  TOPIC = 'payments.events.v1';
}

const load = (env: Record<string, string>): Sample => loadConfig('sample', Sample, env);
const problems = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('config values from the environment', () => {
  it('keeps defaults when nothing is set', () => {
    expect(load({})).toMatchObject({ TIMEOUT_SECONDS: 5, INTERVAL_MS: 60_000, PORT: 80, ENABLED: false, GRANULARITY: 'hour' });
  });

  it('reads whole numbers within their bounds, and 0 where it means off', () => {
    expect(load({ TIMEOUT_SECONDS: '1', INTERVAL_MS: '0', PORT: '65535' })).toMatchObject({ TIMEOUT_SECONDS: 1, INTERVAL_MS: 0, PORT: 65535 });
    expect(load({ TIMEOUT_SECONDS: '60', INTERVAL_MS: '1000' })).toMatchObject({ TIMEOUT_SECONDS: 60, INTERVAL_MS: 1000 });
  });

  it.each(['0', '61', '-1', '1.5', '1e3', ' 5', 'five', '0x10'])('refuses %p for a whole number, naming the variable and the range', (raw) => {
    expect(problems({ TIMEOUT_SECONDS: raw })).toBe('sample: invalid configuration: TIMEOUT_SECONDS must be a whole number of seconds from 1 to 60');
  });

  it('says when 0 means off', () => {
    expect(problems({ INTERVAL_MS: '999' })).toContain('INTERVAL_MS must be a whole number of milliseconds, 0 (off) or 1000 to 3600000');
  });

  it('keeps a message given in full', () => {
    expect(problems({ PORT: '70000' })).toContain('PORT must be a whole number between 0 and 65535 (TCP port)');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads %p as the flag %p', (raw, value) => {
    expect(load({ ENABLED: raw }).ENABLED).toBe(value);
  });

  it.each(['yes', 'TRUE', 'on', '2', 'False'])('refuses %p for a flag', (raw) => {
    expect(problems({ ENABLED: raw })).toContain('ENABLED must be true or false (or 1 or 0)');
  });

  it('refuses a word not in the list, listing the accepted ones', () => {
    expect(problems({ GRANULARITY: 'week' })).toContain('GRANULARITY must be one of hour, day');
  });
});

describe('Kafka names: one rule for every service and tool', () => {
  it('takes consumer group ids of 1 to 200 letters, digits, ".", "_" and "-"', () => {
    expect(load({ CONSUMER_GROUP: 'g'.repeat(200) }).CONSUMER_GROUP).toHaveLength(200);
    expect(load({ CONSUMER_GROUP: 'wallet.payments-ledger_2' }).CONSUMER_GROUP).toBe('wallet.payments-ledger_2');
    for (const refused of ['g'.repeat(201), 'has space', 'colon:group'])
      expect(problems({ CONSUMER_GROUP: refused })).toContain(
        'CONSUMER_GROUP must be a Kafka consumer group id: 1 to 200 of letters, digits, ".", "_" and "-"',
      );
  });

  it('takes topic names as Kafka does: at most 249 characters', () => {
    expect(load({ TOPIC: 't'.repeat(249) }).TOPIC).toHaveLength(249);
    for (const refused of ['t'.repeat(250), 'payments/events'])
      expect(problems({ TOPIC: refused })).toContain('TOPIC must be a Kafka topic name: 1 to 249 of letters, digits, ".", "_" and "-"');
  });
});

describe('single variables outside a config class', () => {
  it('reads a comma-separated list: parts trimmed, empty ones dropped; anything but a string left for the validator', () => {
    expect(toList(' a, b,,c ')).toEqual(['a', 'b', 'c']);
    expect(toList('')).toEqual([]);
    expect(toList(['a'])).toEqual(['a']);
  });

  it('reads a flag, or falls back when unset or empty', () => {
    expect(parseFlag('PG_EMBEDDED', undefined, false)).toBe(false);
    expect(parseFlag('PG_EMBEDDED', ' ', true)).toBe(true);
    expect(parseFlag('PG_EMBEDDED', '1', false)).toBe(true);
    expect(parseFlag('PG_EMBEDDED', 'false', true)).toBe(false);
    expect(() => parseFlag('PG_EMBEDDED', 'yes', false)).toThrow('PG_EMBEDDED must be true or false (or 1 or 0); got "yes".');
  });

  it('reads a whole number, or falls back when unset', () => {
    const rule = { min: 1, max: 10, unit: 'workers', fallback: 2 };
    expect(parseWholeNumber('WORKERS', undefined, rule)).toBe(2);
    expect(parseWholeNumber('WORKERS', '10', rule)).toBe(10);
    expect(() => parseWholeNumber('WORKERS', '11', rule)).toThrow('WORKERS must be a whole number of workers from 1 to 10; got "11".');
    expect(() => parseWholeNumber('WORKERS', '2.5', rule)).toThrow(/^WORKERS must be/);
  });
});
