import { Matches } from 'class-validator';

/** Ids are opaque to us but never free text: letters, digits, `_`, `-`, `:`, `.`. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

/** An opaque id (ID_PATTERN) of any party or thing: payer, payment, method, refund, agent; the message names the property. */
export function IsOpaqueId(): PropertyDecorator {
  return (target, property) =>
    Matches(ID_PATTERN, { message: `${String(property)} must be 1 to 100 of letters, digits, "_", "-", ":" and "."` })(target, property);
}
