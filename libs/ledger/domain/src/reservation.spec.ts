import { economy, eur, ManualClock } from './__fixtures__/ledger-fixtures';
import type { CommandOutcome } from './ledger-batch';

const codeOf = (outcome: CommandOutcome | undefined): string => (outcome?.ok ? 'OK' : (outcome?.error.code ?? 'none'));

function setup() {
  const clock = new ManualClock();
  const ledger = economy(clock);
  ledger.execute({ type: 'transfer', transactionId: 'fund', postings: [eur('clearing-eur', 'debit', 1000n), eur('alice', 'credit', 1000n)] });
  const reserve = (id: string, amount: bigint, ttlMs = 60_000) =>
    ledger.execute({
      type: 'reserve',
      transactionId: id,
      debitAccountId: 'alice',
      creditAccountId: 'shop',
      amount,
      currency: 'EUR',
      expiresAt: new Date(clock.now().getTime() + ttlMs),
    });
  return { clock, ledger, reserve };
}

describe('two-phase transfers', () => {
  it('holds the amount: it stops being available but is not posted yet', () => {
    const { ledger, reserve } = setup();
    expect(codeOf(reserve('r1', 400n))).toBe('OK');
    expect(ledger.summary('alice')).toEqual({ posted: 1000n, pendingIncoming: 0n, pendingOutgoing: 400n, available: 600n });
    expect(ledger.summary('shop')).toEqual({ posted: 0n, pendingIncoming: 400n, pendingOutgoing: 0n, available: 0n });
    expect(codeOf(reserve('r2', 601n))).toBe('INSUFFICIENT_FUNDS');
  });

  it('posts in part and releases the rest', () => {
    const { ledger, reserve } = setup();
    reserve('r1', 400n);
    const post = ledger.execute({ type: 'post_reservation', reservationId: 'r1', amount: 250n });
    expect(post).toMatchObject({ ok: true, entry: { kind: 'post_pending', transactionId: 'r1:post', reservationId: 'r1' } });
    expect(ledger.summary('alice')).toEqual({ posted: 750n, pendingIncoming: 0n, pendingOutgoing: 0n, available: 750n });
    expect(ledger.summary('shop').posted).toBe(250n);
  });

  it('posts in full when no amount is given, and never more than reserved', () => {
    const { ledger, reserve } = setup();
    reserve('r1', 400n);
    expect(codeOf(ledger.execute({ type: 'post_reservation', reservationId: 'r1', amount: 401n }))).toBe('AMOUNT_EXCEEDS_RESERVATION');
    expect(codeOf(ledger.execute({ type: 'post_reservation', reservationId: 'r1' }))).toBe('OK');
    expect(ledger.summary('shop').posted).toBe(400n);
  });

  it('resolves once: a retried post replays, a void after a post is refused', () => {
    const { ledger, reserve } = setup();
    reserve('r1', 400n);
    ledger.execute({ type: 'post_reservation', reservationId: 'r1' });
    expect(ledger.execute({ type: 'post_reservation', reservationId: 'r1' })).toMatchObject({ ok: true, replayed: true });
    expect(codeOf(ledger.execute({ type: 'post_reservation', reservationId: 'r1', amount: 3n }))).toBe('IDEMPOTENCY_CONFLICT');
    expect(codeOf(ledger.execute({ type: 'void_reservation', reservationId: 'r1' }))).toBe('RESERVATION_NOT_PENDING');
  });

  it('voids: the hold disappears and nothing is posted', () => {
    const { ledger, reserve } = setup();
    reserve('r1', 400n);
    expect(codeOf(ledger.execute({ type: 'void_reservation', reservationId: 'r1' }))).toBe('OK');
    expect(ledger.summary('alice')).toEqual({ posted: 1000n, pendingIncoming: 0n, pendingOutgoing: 0n, available: 1000n });
    expect(codeOf(ledger.execute({ type: 'post_reservation', reservationId: 'r1' }))).toBe('RESERVATION_NOT_PENDING');
  });

  it('refuses unknown reservations and reservations that are not holds', () => {
    const { ledger } = setup();
    expect(codeOf(ledger.execute({ type: 'post_reservation', reservationId: 'nope' }))).toBe('RESERVATION_NOT_FOUND');
    expect(codeOf(ledger.execute({ type: 'void_reservation', reservationId: 'fund' }))).toBe('RESERVATION_NOT_FOUND');
  });

  it('refuses an expiry in the past', () => {
    const { reserve } = setup();
    expect(reserve('r1', 1n, 0)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/expiresAt must be in the future/) },
    });
  });
});

describe('expiry', () => {
  it('the sweeper voids a due hold exactly once', () => {
    const { clock, ledger, reserve } = setup();
    reserve('r1', 400n, 1000);
    reserve('r2', 100n, 5000);
    clock.advance(1000);
    expect(ledger.expireDue().map(codeOf)).toEqual(['OK']);
    expect(ledger.expireDue()).toEqual([]);
    expect(ledger.summary('alice').available).toBe(900n);
    expect(
      ledger
        .journal()
        .filter((e) => e.kind === 'expire_pending')
        .map((e) => e.transactionId),
    ).toEqual(['r1:expire']);
  });

  it('a late post is refused and releases the hold at once, without waiting for the sweeper', () => {
    const { clock, ledger, reserve } = setup();
    reserve('r1', 400n, 1000);
    clock.advance(1500);
    expect(codeOf(ledger.execute({ type: 'post_reservation', reservationId: 'r1' }))).toBe('RESERVATION_EXPIRED');
    expect(ledger.summary('alice').available).toBe(1000n);
    expect(codeOf(ledger.execute({ type: 'void_reservation', reservationId: 'r1' }))).toBe('RESERVATION_EXPIRED');
    expect(ledger.expireDue()).toEqual([]);
    expect(ledger.journal().filter((e) => e.kind === 'expire_pending')).toHaveLength(1);
  });

  it('a hold posted before expiry is not expired afterwards', () => {
    const { clock, ledger, reserve } = setup();
    reserve('r1', 400n, 1000);
    ledger.execute({ type: 'post_reservation', reservationId: 'r1' });
    clock.advance(2000);
    expect(ledger.expireDue()).toEqual([]);
    expect(codeOf(ledger.execute({ type: 'expire_reservation', reservationId: 'r1' }))).toBe('RESERVATION_NOT_PENDING');
  });

  it('refuses to expire a hold before its time', () => {
    const { ledger, reserve } = setup();
    reserve('r1', 400n, 1000);
    expect(codeOf(ledger.execute({ type: 'expire_reservation', reservationId: 'r1' }))).toBe('RESERVATION_NOT_DUE');
  });
});
