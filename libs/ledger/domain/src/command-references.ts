import type { LedgerCommand } from './commands';
import { resolutionTransactionId, transactionIdOf } from './commands';
import type { JournalEntry } from './journal-entry';

/**
 * The journal entries a command may need to see: its own id (idempotency), the entry it
 * reverses, or its reservation and that reservation's possible resolutions. A store loads
 * these before running a batch.
 */
export function referencedTransactionIds(command: LedgerCommand): string[] {
  const own = transactionIdOf(command);
  switch (command.type) {
    case 'transfer':
    case 'reserve':
      return [own];
    case 'reverse':
      return [own, command.reverses];
    case 'post_reservation':
    case 'void_reservation':
    case 'expire_reservation': {
      const id = command.reservationId;
      return [id, resolutionTransactionId(id, 'post'), resolutionTransactionId(id, 'void'), resolutionTransactionId(id, 'expire')];
    }
  }
}

/** The transactions whose earlier reversals a command needs (to refuse reversing twice). */
export function reversalTargets(command: LedgerCommand): string[] {
  return command.type === 'reverse' ? [command.reverses] : [];
}

/** The accounts a command may touch, given the entries it references (to lock and load them). */
export function referencedAccountIds(command: LedgerCommand, entryOf: (transactionId: string) => JournalEntry | undefined): string[] {
  const accounts = new Set<string>();
  const addEntry = (transactionId: string): void => entryOf(transactionId)?.postings.forEach((p) => accounts.add(p.accountId));
  switch (command.type) {
    case 'transfer':
      command.postings?.forEach((p) => accounts.add(p.accountId));
      break;
    case 'reverse':
      command.postings?.forEach((p) => accounts.add(p.accountId));
      addEntry(command.reverses);
      break;
    case 'reserve':
      accounts.add(command.debitAccountId).add(command.creditAccountId);
      break;
    case 'post_reservation':
    case 'void_reservation':
    case 'expire_reservation':
      addEntry(command.reservationId);
      break;
  }
  return [...accounts];
}
