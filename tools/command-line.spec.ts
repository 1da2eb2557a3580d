import { parseCommandLine, UsageError, wholeNumberFlag } from './command-line';

const USAGE = 'usage: npm run tool -- [--batch N] [--restart]';
const OPTIONS = { batch: { type: 'string' }, restart: { type: 'boolean' } } as const;

describe('the tools’ command line', () => {
  it('reads flags written --name value and --name=value', () => {
    expect(parseCommandLine(['--batch', '5', '--restart'], OPTIONS, USAGE)).toEqual({ batch: '5', restart: true });
    expect(parseCommandLine(['--batch=7'], OPTIONS, USAGE)).toEqual({ batch: '7' });
    expect(parseCommandLine([], OPTIONS, USAGE)).toEqual({});
  });

  it.each([[['--bach=5']], [['--batch']], [['stray']], [['--restart=yes']]])('refuses %p with the usage line', (argv) => {
    expect(() => parseCommandLine(argv, OPTIONS, USAGE)).toThrow(UsageError);
    expect(() => parseCommandLine(argv, OPTIONS, USAGE)).toThrow(new RegExp(`\\n${USAGE.replace(/[[\]]/g, '\\$&')}$`));
  });

  it('reads a whole-number flag within bounds, or falls back', () => {
    const rule = { min: 1, max: 50_000, fallback: 20_000 };
    expect(wholeNumberFlag('batch', undefined, rule, USAGE)).toBe(20_000);
    expect(wholeNumberFlag('batch', '500', rule, USAGE)).toBe(500);
    expect(() => wholeNumberFlag('batch', '0', rule, USAGE)).toThrow(`--batch must be a whole number from 1 to 50000; got "0".\n${USAGE}`);
    expect(() => wholeNumberFlag('batch', 'many', rule, USAGE)).toThrow(UsageError);
  });
});
