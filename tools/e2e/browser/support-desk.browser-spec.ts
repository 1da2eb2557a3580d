/**
 * The Pay Hub's support page in headless Chromium against the real services (wallet,
 * orchestration, PSP simulator, history, support, the hub): a person who paid opens a chat about
 * the payment (from their app: a socket.io client here); an agent signs in to the hub, finds the
 * conversation in the queue by country and age, claims it, reads the person's message beside the
 * payment's timeline, replies (the person receives it), refunds part of the payment (more than
 * refundable is refused; the refund shows in the timeline), hands the conversation to a second
 * agent, who closes it with a reason (the person is told). A person signed in to the hub has no support page, and the hub forwards them none of it.
 * Screenshots go to reports/browser/. Without Chromium the test is skipped, saying why.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '@pay/testing';
import type { Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { http, purchaseOf } from '../e2e-kit';
import { findChromium, reportSkipped } from './chromium';
import type { HubStack } from './hub-kit';
import { ARTEFACTS_DIR, startHubStack } from './hub-kit';

const CHROMIUM = findChromium();
if (!CHROMIUM) reportSkipped('support-desk.browser-spec.ts');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

jest.setTimeout(240_000);

interface ChatMessage {
  conversationId: string;
  seq: number;
  author: { role: string };
  text: string;
}

describeWithBrowser("the Pay Hub's support page in a browser", () => {
  let stack: HubStack;
  let personChat: Socket | undefined;
  const pages: Array<{ name: string; page: Page; lines: string[] }> = [];

  beforeAll(async () => {
    stack = await startHubStack(CHROMIUM!, { support: true });
  });

  afterEach(async () => {
    for (const { name, page, lines } of pages.splice(0)) {
      if (page.isClosed()) continue;
      await page.screenshot({ path: join(ARTEFACTS_DIR, `last-${name}.png`), fullPage: true }).catch(() => undefined);
      await writeFile(join(ARTEFACTS_DIR, `last-${name}.console.txt`), lines.join('\n')).catch(() => undefined);
    }
  });

  afterAll(async () => {
    personChat?.disconnect();
    await stack?.stop();
  });

  async function signIn(role: 'person' | 'support', sub: string): Promise<Page> {
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await context.newPage();
    const lines: string[] = [];
    page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
    pages.push({ name: `support-desk-${role}`, page, lines });
    await page.goto(stack.hubUrl);
    await page.getByRole('heading', { name: 'Sign in (development)' }).waitFor();
    await page.getByLabel('Sign in as').selectOption(role);
    await page.getByLabel('Id').fill(sub);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${sub}`).waitFor();
    return page;
  }

  it("lets an agent claim a conversation from the queue, read it beside the payment's timeline, reply, refund, hand it over; the next agent closes it; a person has no such page", async () => {
    const support = stack.support!;
    const { platform } = stack;
    // A person pays 25.00 USD and opens a chat about it from their app.
    const payer = await platform.person();
    const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(payer, 2_500n)));
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    const personToken = await platform.idp.signTestToken({ sub: payer.id, role: 'person' });
    const opened = await waitFor(
      () => http<{ id: string }>(`${support.url}/v1/support/conversations`, 'POST', personToken, { country: 'US', app: 'messenger', paymentId }),
      (answer) => answer.status !== 404,
      { what: 'the payment known to support' },
    );
    expect(opened.status).toBe(201);
    const conversationId = opened.body.id;
    const received: ChatMessage[] = [];
    const updates: Array<{ status: string; closeReason: string | null }> = [];
    personChat = io(`${support.url}/support`, { auth: { token: personToken }, transports: ['websocket'], reconnection: false, forceNew: true });
    personChat.on('message', (message: ChatMessage) => received.push(message));
    personChat.on('conversation.updated', (view: { status: string; closeReason: string | null }) => updates.push(view));
    await new Promise<void>((resolve, reject) => personChat!.once('connect', () => resolve()).once('connect_error', reject));
    expect(await personChat.emitWithAck('conversation.join', { conversationId })).toMatchObject({ ok: true });
    expect(
      await personChat.emitWithAck('message.send', { conversationId, clientMessageId: randomUUID(), text: 'I was charged twice for my order' }),
    ).toMatchObject({ ok: true });

    // The agent: the queue of the US, the conversation claimed, the person's message and the payment.
    const agent = await signIn('support', 'hub-agent-1');
    await agent.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Support' }).click();
    await agent.getByRole('heading', { level: 1, name: 'Support' }).waitFor();
    await agent.getByLabel('Country').fill('US');
    await agent.getByRole('button', { name: 'Show' }).click();
    const queue = agent.getByRole('table', { name: 'Waiting conversations, oldest first' });
    const row = queue.getByRole('row').filter({ hasText: `payment ${paymentId}` });
    await row.waitFor();
    await expect(row.getByRole('cell').allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^\d+ (s|min)$/),
      'US',
      'messenger',
      `payment ${paymentId}`,
      'Claim',
    ]);
    await agent.screenshot({ path: join(ARTEFACTS_DIR, 'support-queue.png'), fullPage: true });
    await row.getByRole('button', { name: /^Claim/ }).click();

    const messages = agent.getByRole('list', { name: 'Messages' });
    await messages.getByText('I was charged twice for my order').waitFor();
    const paymentCard = agent.getByRole('region', { name: `Payment ${paymentId}` });
    await paymentCard.getByText('25.00 USD').first().waitFor();
    const timeline = paymentCard.getByRole('table', { name: 'Timeline' });
    await timeline.getByRole('cell', { name: 'captured', exact: true }).waitFor();
    await expect(timeline.getByRole('cell', { name: 'initiated', exact: true }).count()).resolves.toBe(1);

    // The reply reaches the person; closing with a reason tells them.
    await agent.getByLabel('Your reply').fill('Let me look at it: I see one capture of 25.00 USD.');
    await agent.getByRole('button', { name: 'Send' }).click();
    await messages.getByText('Let me look at it: I see one capture of 25.00 USD.').waitFor();
    await waitFor(
      () => received.filter((message) => message.author.role === 'agent').map((message) => message.text),
      (texts) => texts.length === 1,
      { what: "the agent's reply at the person" },
    );
    expect(received.map((message) => [message.seq, message.author.role, message.text])).toEqual([
      [1, 'person', 'I was charged twice for my order'],
      [2, 'agent', 'Let me look at it: I see one capture of 25.00 USD.'],
    ]);
    await agent.screenshot({ path: join(ARTEFACTS_DIR, 'support-conversation.png'), fullPage: true });

    // A partial refund from the page: orchestration refunds, the PSP confirms, the timeline shows it.
    const refunded = paymentCard.locator('dt:text-is("Refunded") + dd');
    const refundable = paymentCard.locator('dt:text-is("Still refundable") + dd');
    await expect(refundable.innerText()).resolves.toBe('25.00 USD');
    // The page states the exact amount it asks the hub to approve (empty: all that is refundable).
    await paymentCard.getByRole('button', { name: 'Refund 25.00 USD', exact: true }).waitFor();
    await paymentCard.getByLabel('Amount to refund (USD)').fill('30.00');
    await paymentCard.getByRole('button', { name: 'Refund 30.00 USD', exact: true }).click();
    await agent.getByRole('alert').filter({ hasText: 'at most 2500' }).waitFor();
    await expect(refunded.innerText()).resolves.toBe('0.00 USD');
    await paymentCard.getByLabel('Amount to refund (USD)').fill('10.00');
    await paymentCard.getByLabel('Refund reason').selectOption('duplicate');
    await paymentCard.getByRole('button', { name: 'Refund 10.00 USD', exact: true }).click();
    await paymentCard.getByText('Refund of 10.00 USD requested').waitFor();
    await waitFor(
      async () => {
        await paymentCard.getByRole('button', { name: 'Refresh payment' }).click();
        return refunded.innerText();
      },
      (text) => text === '10.00 USD',
      { what: 'the refund in the payment shown to the agent' },
    );
    await expect(refundable.innerText()).resolves.toBe('15.00 USD');
    await timeline.getByRole('cell', { name: 'refunded', exact: true }).first().waitFor();
    const refund = await platform.events.waitFor(paymentId, 'payments.payment.refunded');
    expect(refund.data).toMatchObject({ amount: { amount: '1000', currency: 'USD' } });
    expect(platform.events.types(paymentId).filter((type) => type === 'payments.payment.refund-requested')).toHaveLength(1);
    await agent.screenshot({ path: join(ARTEFACTS_DIR, 'support-refund.png'), fullPage: true });

    // Handed over to another agent: gone from this desk, on theirs; the person is told who has it.
    await agent.getByLabel('Hand over to').fill('hub-agent-2');
    await agent.getByRole('button', { name: 'Hand over' }).click();
    await agent.getByText('None assigned to you.').waitFor();
    await waitFor(
      () => updates.at(-1),
      (update) => (update as { agentId?: string } | undefined)?.agentId === 'hub-agent-2',
      { what: 'the hand-over at the person' },
    );
    const second = await signIn('support', 'hub-agent-2');
    await second.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Support' }).click();
    await second.getByRole('button', { name: `${payer.id} (US, messenger)` }).click();
    await second.getByRole('list', { name: 'Messages' }).getByText('Let me look at it: I see one capture of 25.00 USD.').waitFor();
    await second
      .getByRole('region', { name: `Payment ${paymentId}` })
      .locator('dt:text-is("Refunded") + dd')
      .getByText('10.00 USD')
      .waitFor();

    await second.getByLabel('Reason', { exact: true }).selectOption('refunded');
    await second.getByRole('button', { name: 'Close conversation' }).click();
    await waitFor(
      () => updates.at(-1),
      (update) => update?.status === 'closed',
      { what: 'the close at the person' },
    );
    expect(updates.at(-1)).toMatchObject({ status: 'closed', closeReason: 'refunded' });
    await second.getByText('None assigned to you.').waitFor();

    // A person signed in to the hub: no support link, /support is not theirs, and the hub forwards none of it.
    const person = await signIn('person', payer.id);
    await expect(person.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Support' }).count()).resolves.toBe(0);
    await person.goto(`${stack.hubUrl}/support`);
    await person.getByRole('heading', { level: 1, name: 'Your payments' }).waitFor();
    await expect(person.getByRole('heading', { level: 1, name: 'Support' }).count()).resolves.toBe(0);
    const forwarded = await person.evaluate<number[]>(
      `Promise.all(['/api/support/v1/support/queue', '/api/support/v1/support/conversations/${conversationId}/payment'].map((path) => fetch(path).then((r) => r.status)))`,
    );
    expect(forwarded).toEqual([404, 404]);
  });
});
