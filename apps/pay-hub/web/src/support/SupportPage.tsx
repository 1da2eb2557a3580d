import { useCallback, useEffect, useRef, useState } from 'react';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { api, errorText, formatMoney, label, query, toMinorUnits } from '../api';
import { Button, Card, Field, Form, Notice, Page, Select } from '../components';
import type { ConversationView, MessageView, QueuedConversationView } from '@pay/contracts/support-chat-views';

/** A conversation of the queue (with how long it has waited) or of the agent's own. */
type Conversation = ConversationView & Partial<Pick<QueuedConversationView, 'waitingSeconds'>>;

interface PaymentTimeline {
  paymentId: string;
  status: string | null;
  currency: string | null;
  captured: string;
  refunded: string;
  refundable: string;
  timeline: Array<{ eventId: string; stage: string; type: string; occurredAt: string }>;
}

type Ack = { ok: true; [key: string]: unknown } | { ok: false; code: string; message: string };

const CLOSE_REASONS = ['resolved', 'refunded', 'no_response', 'duplicate', 'out_of_scope', 'abusive'] as const;
/** Why an agent refunds (the support API's SUPPORT_REFUND_REASONS, Stripe's refund reasons). */
const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;
const DESK = '/api/support/v1/support';

const age = (seconds: number): string =>
  seconds < 60
    ? `${seconds} s`
    : seconds < 3_600
      ? `${Math.floor(seconds / 60)} min`
      : `${Math.floor(seconds / 3_600)} h ${Math.floor((seconds % 3_600) / 60)} min`;
const money = (amount: string, currency: string | null): string => (currency ? formatMoney({ amount, currency }) : amount);

/**
 * A support agent's desk: the queue of open conversations by country, oldest first; claiming one;
 * the conversation (live over the chat's WebSocket, relayed by the hub with the session's token)
 * beside the timeline of the payment it is about; replying; refunding that payment within what it
 * still allows; handing the conversation to another agent or back to the queue; closing with a reason.
 */
export function SupportPage({ agentId }: { agentId: string }) {
  const [country, setCountry] = useState('');
  const [queue, setQueue] = useState<Conversation[] | undefined>();
  const [mine, setMine] = useState<Conversation[]>([]);
  const [selected, setSelected] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [socket, setSocket] = useState<Socket | undefined>();

  const refresh = useCallback(async (): Promise<void> => {
    try {
      const [waiting, assigned] = await Promise.all([
        api<{ conversations: QueuedConversationView[] }>('GET', `${DESK}/queue${query({ country: country.trim().toUpperCase() || undefined })}`),
        api<{ conversations: ConversationView[] }>('GET', `${DESK}/agents/me/conversations`),
      ]);
      setQueue(waiting.conversations);
      setMine(assigned.conversations);
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [country]);

  useEffect(() => void refresh(), [refresh]);

  // One chat connection for the page; the hub adds the token (the page never holds one).
  useEffect(() => {
    const chat = io('/support', { path: '/api/support/socket.io/', transports: ['websocket'] });
    chat.on('conversation.assigned', () => void refresh());
    chat.on('connect_error', () => setError('The chat cannot be reached; it reconnects by itself.'));
    chat.on('connect', () => setError(''));
    setSocket(chat);
    return () => {
      chat.disconnect();
    };
  }, [refresh]);

  const claim = async (id: string): Promise<void> => {
    setError('');
    try {
      await api('POST', `${DESK}/conversations/${id}/claim`, {});
      setSelected(id);
      await refresh();
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  return (
    <Page title="Support">
      <Notice kind="error">{error}</Notice>
      <div className="support-desk">
        <div>
          <Card title="Queue">
            <Form onSubmit={refresh} label="Filter the queue">
              <Field
                label="Country"
                hint="Two letters, e.g. US; empty: every country"
                value={country}
                maxLength={2}
                onChange={(event) => setCountry(event.target.value)}
              />
              <Button type="submit" variant="secondary">
                Show
              </Button>
            </Form>
            {!queue ? (
              <p role="status">Loading…</p>
            ) : queue.length === 0 ? (
              <p>No conversation is waiting.</p>
            ) : (
              <table>
                <caption>Waiting conversations, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Waiting</th>
                    <th scope="col">Country</th>
                    <th scope="col">App</th>
                    <th scope="col">About</th>
                    <th scope="col">
                      <span className="visually-hidden">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {queue.map((conversation) => (
                    <tr key={conversation.id}>
                      <td>{age(conversation.waitingSeconds ?? 0)}</td>
                      <td>{conversation.country}</td>
                      <td>{conversation.app}</td>
                      <td>{conversation.paymentId ? `payment ${conversation.paymentId}` : '—'}</td>
                      <td>
                        <Button
                          onClick={() => void claim(conversation.id)}
                          aria-label={`Claim the conversation waiting ${age(conversation.waitingSeconds ?? 0)}`}
                        >
                          Claim
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
          <Card title="Your conversations">
            {mine.length === 0 ? (
              <p>None assigned to you.</p>
            ) : (
              <ul>
                {mine.map((conversation) => (
                  <li key={conversation.id}>
                    <Button variant={conversation.id === selected ? 'primary' : 'secondary'} onClick={() => setSelected(conversation.id)}>
                      {conversation.personId} ({conversation.country}, {conversation.app})
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
        {selected && socket && (
          <ConversationPanel
            key={selected}
            conversation={mine.find((conversation) => conversation.id === selected)}
            conversationId={selected}
            agentId={agentId}
            socket={socket}
            onReleased={() => {
              setSelected(undefined);
              void refresh();
            }}
          />
        )}
      </div>
    </Page>
  );
}

function ConversationPanel({
  conversationId,
  conversation,
  agentId,
  socket,
  onReleased,
}: {
  conversationId: string;
  conversation?: Conversation;
  agentId: string;
  socket: Socket;
  /** The conversation is no longer the agent's: closed, or handed over. */
  onReleased: () => void;
}) {
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [draft, setDraft] = useState('');
  const [reason, setReason] = useState<string>('resolved');
  const [error, setError] = useState('');
  const [payment, setPayment] = useState<PaymentTimeline | undefined>();
  const [handOverTo, setHandOverTo] = useState('');
  const [refund, setRefund] = useState<{ amount: string; reason: string; key: string }>({
    amount: '',
    reason: REFUND_REASONS[0],
    key: crypto.randomUUID(),
  });
  const [refundStatus, setRefundStatus] = useState('');
  const last = useRef(0);

  // Join (again after each reconnect, from the last position shown) and take every message once, in order.
  useEffect(() => {
    const onMessage = (message: MessageView): void => {
      if (message.conversationId !== conversationId || message.seq <= last.current) return;
      last.current = message.seq;
      setMessages((shown) => [...shown, message]);
      socket.emit('message.receipt', { conversationId, kind: 'read', seq: message.seq });
    };
    const join = (): void => {
      socket.emit('conversation.join', { conversationId, afterSeq: last.current }, (ack: Ack) => {
        if (!ack.ok) setError(ack.message);
      });
    };
    socket.on('message', onMessage);
    socket.on('connect', join);
    if (socket.connected) join();
    return () => {
      socket.off('message', onMessage);
      socket.off('connect', join);
      socket.emit('conversation.leave', { conversationId });
    };
  }, [conversationId, socket]);

  const paymentId = conversation?.paymentId;
  const loadPayment = useCallback(
    (): Promise<void> =>
      api<PaymentTimeline>('GET', `${DESK}/conversations/${conversationId}/payment`).then(setPayment, (failure: unknown) => setError(errorText(failure))),
    [conversationId],
  );
  useEffect(() => {
    if (paymentId) void loadPayment();
  }, [paymentId, loadPayment]);

  const send = async (): Promise<void> => {
    const text = draft.trim();
    if (!text) return;
    setError('');
    const ack = (await socket
      .timeout(10_000)
      .emitWithAck('message.send', { conversationId, clientMessageId: crypto.randomUUID(), text })
      .catch(() => ({
        ok: false,
        code: 'NO_ANSWER',
        message: 'The chat did not answer; send it again.',
      }))) as Ack;
    if (ack.ok) setDraft('');
    else setError(ack.message);
  };

  const close = async (): Promise<void> => {
    setError('');
    try {
      await api('POST', `${DESK}/conversations/${conversationId}/close`, { reason });
      onReleased();
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  const handOver = async (): Promise<void> => {
    setError('');
    const to = handOverTo.trim();
    try {
      await api('POST', `${DESK}/conversations/${conversationId}/hand-over`, to ? { toAgentId: to } : {});
      onReleased();
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  /** The exact amount the refund asks for (the hub approves exactly it): what is entered, else all that is refundable. */
  const statedRefund = (): { amount: string; currency: string } | undefined => {
    if (!payment?.currency) return undefined;
    if (!refund.amount.trim()) return { amount: payment.refundable, currency: payment.currency };
    const minor = toMinorUnits(refund.amount, payment.currency);
    return minor ? { amount: minor, currency: payment.currency } : undefined;
  };

  const startRefund = async (): Promise<void> => {
    if (!payment?.currency || !paymentId) return;
    setError('');
    setRefundStatus('');
    const amount = statedRefund();
    if (!amount) return setError(`Enter the amount to refund in ${payment.currency}, e.g. 5.00, or leave it empty for all that is refundable.`);
    try {
      // The key is kept until the refund is accepted: sending again after a lost answer refunds once.
      // The hub approves this payment and this exact amount for this agent, and nothing else.
      const started = await api<{ refundId: string; amount: { amount: string; currency: string } }>(
        'POST',
        `${DESK}/conversations/${conversationId}/refunds`,
        { paymentId, amount, reason: refund.reason },
        { idempotencyKey: refund.key },
      );
      setRefund({ amount: '', reason: REFUND_REASONS[0], key: crypto.randomUUID() });
      // The refund reaches the timeline as the provider's answer arrives (events): Refresh shows it.
      setRefundStatus(`Refund of ${formatMoney(started.amount)} requested; it shows in the timeline once the provider confirms it.`);
      await loadPayment();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  const stated = statedRefund();

  return (
    <div>
      <Card title={conversation ? `Conversation with ${conversation.personId}` : 'Conversation'}>
        <Notice kind="error">{error}</Notice>
        <ol className="chat" aria-label="Messages" aria-live="polite">
          {messages.map((message) => (
            <li key={message.id} className={message.author.role === 'agent' ? 'chat-agent' : 'chat-person'}>
              <span className="chat-author">{message.author.role === 'agent' ? (message.author.id === agentId ? 'You' : message.author.id) : 'Person'}</span>{' '}
              <span className="chat-text">{message.text}</span>
              {message.masked.length > 0 && <span className="hint"> (an IBAN was masked)</span>}
            </li>
          ))}
        </ol>
        <Form onSubmit={send} label="Reply to the person">
          <Field label="Your reply" value={draft} maxLength={2_000} onChange={(event) => setDraft(event.target.value)} autoComplete="off" />
          <Button type="submit">Send</Button>
        </Form>
        <Form onSubmit={handOver} label="Hand over the conversation">
          <Field
            label="Hand over to"
            hint="An agent's id; empty: back to the queue"
            value={handOverTo}
            maxLength={100}
            onChange={(event) => setHandOverTo(event.target.value)}
            autoComplete="off"
          />
          <Button type="submit" variant="secondary">
            Hand over
          </Button>
        </Form>
        <Form onSubmit={close} label="Close the conversation">
          <Select
            label="Reason"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
            options={CLOSE_REASONS.map((value) => ({ value, text: label(value) }))}
          />
          <Button type="submit" variant="danger">
            Close conversation
          </Button>
        </Form>
      </Card>
      {paymentId && (
        <Card title={`Payment ${paymentId}`}>
          {!payment ? (
            <p role="status">Loading…</p>
          ) : (
            <>
              <dl>
                <dt>Status</dt>
                <dd>{payment.status ? label(payment.status) : '—'}</dd>
                <dt>Captured</dt>
                <dd>{money(payment.captured, payment.currency)}</dd>
                <dt>Refunded</dt>
                <dd>{money(payment.refunded, payment.currency)}</dd>
                <dt>Still refundable</dt>
                <dd>{money(payment.refundable, payment.currency)}</dd>
              </dl>
              <Button variant="secondary" onClick={() => void loadPayment()}>
                Refresh payment
              </Button>
              <Notice kind="success">{refundStatus}</Notice>
              {payment.currency && payment.refundable !== '0' && (
                <Form onSubmit={startRefund} label="Refund the payment">
                  <Field
                    label={`Amount to refund (${payment.currency})`}
                    hint={`Empty: all that is refundable, ${money(payment.refundable, payment.currency)}`}
                    value={refund.amount}
                    inputMode="decimal"
                    autoComplete="off"
                    onChange={(event) => setRefund({ ...refund, amount: event.target.value })}
                  />
                  <Select
                    label="Refund reason"
                    value={refund.reason}
                    onChange={(event) => setRefund({ ...refund, reason: event.target.value })}
                    options={REFUND_REASONS.map((value) => ({ value, text: label(value) }))}
                  />
                  <Button type="submit">{stated ? `Refund ${formatMoney(stated)}` : 'Refund'}</Button>
                </Form>
              )}
              <table>
                <caption>Timeline</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Stage</th>
                    <th scope="col">Event</th>
                  </tr>
                </thead>
                <tbody>
                  {payment.timeline.map((entry) => (
                    <tr key={entry.eventId}>
                      <td>{new Date(entry.occurredAt).toLocaleString()}</td>
                      <td>{entry.stage}</td>
                      <td>{label(entry.type.split('.').at(-1) ?? entry.type)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </Card>
      )}
    </div>
  );
}
