import type {
  ContactChanged,
  PaymentMethodAdded,
  PaymentMethodMadePreferred,
  PaymentMethodMarkedUnusable,
  PaymentMethodRemoved,
  WalletAppsChanged,
  WalletOpened,
} from '@pay/contracts';
import type { ProjectableEvent } from './projectable-event';
import { minInstant, normalizeInstant } from './projectable-event';

/**
 * What history keeps of a wallet. Each group of fields is set by the event of the highest
 * position in the person's stream that speaks of it (a later event carries the whole current
 * value), so duplicates and reordering give the same row. Contact details are only the
 * presence flags the wallet publishes; analysts never see even those.
 */
export interface WalletRow {
  personId: string;
  country: string | null;
  openedAt: string | null;
  apps: string[];
  appsSequence: number;
  hasEmail: boolean | null;
  hasPhone: boolean | null;
  contactSequence: number;
  preferredMethodId: string | null;
  preferredSequence: number;
}

export interface MethodRow {
  methodId: string;
  personId: string;
  kind: string | null;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  country: string | null;
  addedAt: string | null;
  removedAt: string | null;
  /** Why the payer's bank will not be debited from this bank account again (the wallet's mark), and since when; null while it may be. */
  unusableReason: string | null;
  unusableSince: string | null;
}

export const WALLET_EVENT_TYPES = {
  opened: 'wallet.wallet.opened',
  appsChanged: 'wallet.apps.changed',
  methodAdded: 'wallet.payment-method.added',
  methodMadePreferred: 'wallet.payment-method.made-preferred',
  methodRemoved: 'wallet.payment-method.removed',
  methodMarkedUnusable: 'wallet.payment-method.marked-unusable',
  contactChanged: 'wallet.contact.changed',
} as const;

const PROJECTED: ReadonlySet<string> = new Set(Object.values(WALLET_EVENT_TYPES));

/** Whether the event changes what history keeps of wallets (PIN, consent and step-up events do not). */
export function isProjectedWalletEvent(event: ProjectableEvent): boolean {
  return PROJECTED.has(event.type);
}

export function emptyWallet(personId: string): WalletRow {
  return {
    personId,
    country: null,
    openedAt: null,
    apps: [],
    appsSequence: 0,
    hasEmail: null,
    hasPhone: null,
    contactSequence: 0,
    preferredMethodId: null,
    preferredSequence: 0,
  };
}

export function emptyMethod(methodId: string, personId: string): MethodRow {
  return {
    methodId,
    personId,
    kind: null,
    brand: null,
    last4: null,
    expMonth: null,
    expYear: null,
    country: null,
    addedAt: null,
    removedAt: null,
    unusableReason: null,
    unusableSince: null,
  };
}

const sortedApps = (apps: readonly string[]): string[] => [...new Set(apps)].sort();

/**
 * A stream position breaks no tie with itself: when the same position is seen twice with two
 * values (a producer bug), the larger value wins, whatever the order.
 */
function wins(sequence: number, current: number, incoming: unknown, existing: unknown): boolean {
  if (sequence !== current) return sequence > current;
  return JSON.stringify(incoming) > JSON.stringify(existing);
}

/** Folds a wallet event into the person's wallet row. Pure. */
export function applyWalletEvent(wallet: WalletRow | undefined, event: ProjectableEvent): WalletRow {
  const personId = (event.data as { personId: string }).personId;
  const row: WalletRow = { ...(wallet ?? emptyWallet(personId)) };
  const at = normalizeInstant(event.occurredAt);
  const seq = event.sequence;
  switch (event.type) {
    case WALLET_EVENT_TYPES.opened: {
      const data = event.data as WalletOpened;
      // Opened once; should it be told twice, the earliest opening stands.
      if (row.openedAt === null || at < row.openedAt || (at === row.openedAt && data.country > (row.country ?? ''))) {
        row.openedAt = at;
        row.country = data.country;
      }
      if (wins(seq, row.appsSequence, sortedApps(data.apps), row.apps)) [row.apps, row.appsSequence] = [sortedApps(data.apps), seq];
      break;
    }
    case WALLET_EVENT_TYPES.appsChanged: {
      const data = event.data as WalletAppsChanged;
      if (wins(seq, row.appsSequence, sortedApps(data.apps), row.apps)) [row.apps, row.appsSequence] = [sortedApps(data.apps), seq];
      break;
    }
    case WALLET_EVENT_TYPES.contactChanged: {
      const data = event.data as ContactChanged;
      if (wins(seq, row.contactSequence, [data.hasEmail, data.hasPhone], [row.hasEmail, row.hasPhone])) {
        [row.hasEmail, row.hasPhone, row.contactSequence] = [data.hasEmail, data.hasPhone, seq];
      }
      break;
    }
    case WALLET_EVENT_TYPES.methodAdded: {
      const data = event.data as PaymentMethodAdded;
      if (data.preferred && wins(seq, row.preferredSequence, data.methodId, row.preferredMethodId)) {
        [row.preferredMethodId, row.preferredSequence] = [data.methodId, seq];
      }
      break;
    }
    case WALLET_EVENT_TYPES.methodMadePreferred: {
      const data = event.data as PaymentMethodMadePreferred;
      if (wins(seq, row.preferredSequence, data.methodId, row.preferredMethodId)) [row.preferredMethodId, row.preferredSequence] = [data.methodId, seq];
      break;
    }
    case WALLET_EVENT_TYPES.methodRemoved: {
      const data = event.data as PaymentMethodRemoved;
      if (data.wasPreferred && wins(seq, row.preferredSequence, null, row.preferredMethodId)) [row.preferredMethodId, row.preferredSequence] = [null, seq];
      break;
    }
    default:
      return wallet ?? row;
  }
  return row;
}

/** The method an event speaks of, if any. */
export function methodIdOf(event: ProjectableEvent): string | undefined {
  if (
    event.type === WALLET_EVENT_TYPES.methodAdded ||
    event.type === WALLET_EVENT_TYPES.methodRemoved ||
    event.type === WALLET_EVENT_TYPES.methodMarkedUnusable
  )
    return (event.data as { methodId: string }).methodId;
  return undefined;
}

/** Folds a method's events into its row: added fills the display data, removed is for good, so is the mark of unusable (the first one told stands). Pure. */
export function applyMethodEvent(method: MethodRow | undefined, event: ProjectableEvent): MethodRow {
  const data = event.data as { personId: string; methodId: string };
  // The wallet is the authority on whose method it is (a payment may have named it first).
  const row: MethodRow = { ...(method ?? emptyMethod(data.methodId, data.personId)), personId: data.personId };
  const at = normalizeInstant(event.occurredAt);
  if (event.type === WALLET_EVENT_TYPES.methodAdded) {
    const added = event.data as PaymentMethodAdded;
    // A method is added once; its display data never changes (a new card is a new method).
    if (row.addedAt === null || at <= row.addedAt) {
      Object.assign(row, {
        kind: added.kind,
        brand: added.display.brand ?? null,
        last4: added.display.last4 ?? null,
        expMonth: added.display.expMonth ?? null,
        expYear: added.display.expYear ?? null,
        country: added.display.country ?? null,
        addedAt: at,
      });
    }
  } else if (event.type === WALLET_EVENT_TYPES.methodRemoved) {
    row.removedAt = minInstant(row.removedAt ?? undefined, at) ?? null;
  } else if (event.type === WALLET_EVENT_TYPES.methodMarkedUnusable) {
    const marked = event.data as PaymentMethodMarkedUnusable;
    // The wallet marks an account once; told twice (or out of order), the earliest mark stands.
    if (row.unusableSince === null || at < row.unusableSince || (at === row.unusableSince && marked.reason < (row.unusableReason ?? ''))) {
      [row.unusableReason, row.unusableSince] = [marked.reason, at];
    }
  }
  return row;
}
