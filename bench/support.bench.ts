/**
 * npm run bench:support — the support chat under load: two instances of the support service
 * (built, from dist/, as production runs them) on one database; --conversations persons (default
 * 500) each connected to one instance and their agents (one per 10 conversations) to the other;
 * in every conversation at once, --messages messages (default 10) alternate between the person and
 * the agent. Each party answers --reply-after milliseconds (default 1000) after the other's message
 * reached it, as people chatting do (a reply takes them seconds: 1 s is a fast typist), and the
 * conversations begin at random moments within the first such interval (people do not all type at
 * once: started together, every conversation would send in the same instant each second); with
 * --reply-after=0 every conversation sends as fast as it can (a flood: each sender waits only for
 * the acknowledgement, stored, of its previous message, and the next party sends at once), which
 * measures throughput more than the latency a person sees.
 *
 * Delivery latency: from the moment a client emits a message to the moment the other party's
 * client receives it (same process, same clock): WebSocket in, screening, one INSERT with its
 * NOTIFY, the LISTENing instance of the other party, WebSocket out. Also checks that each party
 * got every message of its conversation exactly once and in order.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/payments_bench; created if
 * missing), KAFKA_BROKERS (given by libs/testing's with-test-infra, which the npm script uses),
 * BENCH_NODE_OPTIONS (the instances' NODE_OPTIONS, e.g. `--cpu-prof --cpu-prof-dir=DIR`). A fresh
 * schema is created and dropped. Flags: --conversations=N, --messages=N, --reply-after=MS, --receipts
 * (each party acknowledges every message of the other's it receives with a read receipt, as the Pay
 * Hub's support page does: as many receipts as messages, stored like them), --lockstep (with
 * --reply-after > 0: every conversation begins at once, so all of them send in the same instant
 * each interval: a burst of --conversations messages at a time), --warmup=N (default 10: before the
 * measured load, N messages per conversation flooded through the same conversations, so that the
 * instances run it warm, as production's do; its figures are printed on a line of their own and
 * left out of the load's; 0 runs the load on cold instances).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createTestIssuer } from '@pay/auth/testing';
import { builtServiceEnv, dropSchema, startBuiltService, uniqueName } from '@pay/testing';
import type { StartedService } from '@pay/testing';
import type { ConversationView, MessageView } from '@pay/support/tools';
import { parseCommandLine, wholeNumberFlag } from '@pay/tools/command-line';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { ensureDatabase } from '@pay/local-infra';
import { machineCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './e2e-meters';
import { percentile } from './percentile';

const USAGE =
  'usage: npm run bench:support -- [--conversations=N (1-5000)] [--messages=N (2-100)] [--reply-after=MS (0-60000)] [--receipts] [--lockstep] [--warmup=N (0-100)]';
const AGENT_LOAD = 10;
/** The instance a conversation's person connects to: its agent's group alternates between the two. */
const sideOf = (conversation: number): number => Math.floor(conversation / AGENT_LOAD) % 2;

const started = Date.now();
const progress = (what: string): void => void process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${what}\n`);

async function connect(url: string, token: string): Promise<Socket> {
  const socket = io(`${url}/support`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function post<T>(url: string, token: string, body: object = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function main(): Promise<void> {
  const flags = parseCommandLine(
    process.argv.slice(2),
    {
      conversations: { type: 'string' },
      messages: { type: 'string' },
      'reply-after': { type: 'string' },
      receipts: { type: 'boolean' },
      lockstep: { type: 'boolean' },
      warmup: { type: 'string' },
    },
    USAGE,
  );
  const conversations = wholeNumberFlag('conversations', flags.conversations, { min: 1, max: 5_000, fallback: 500 }, USAGE);
  const perConversation = wholeNumberFlag('messages', flags.messages, { min: 2, max: 100, fallback: 10 }, USAGE);
  const warmup = wholeNumberFlag('warmup', flags.warmup, { min: 0, max: 100, fallback: 10 }, USAGE);
  const replyAfterMs = wholeNumberFlag('reply-after', flags['reply-after'], { min: 0, max: 60_000, fallback: 1_000 }, USAGE);
  // As the hub's support page does: a read receipt for every message of the other party's it receives.
  const receipts = flags.receipts === true;
  // Lockstep: no staggered starts, so the conversations' messages come in bursts, all at once.
  const lockstep = flags.lockstep === true;
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/payments_bench';
  await ensureDatabase(databaseUrl);
  const schema = uniqueName('bench_support');
  const idp = await createTestIssuer();
  const dir = await mkdtemp(join(tmpdir(), 'bench-support-'));
  const rolloutPath = join(dir, 'support-rollout.json');
  await writeFile(rolloutPath, JSON.stringify({ countries: [{ country: 'US', apps: ['messenger'] }] }));

  const env = builtServiceEnv({
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    DB_SCHEMA: schema,
    // info: the kit learns the URL from the line logged when the service listens.
    LOG_LEVEL: 'info',
    AUTH_JWKS: JSON.stringify(idp.jwks),
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: idp.audience,
    SUPPORT_ROLLOUT_CONFIG_PATH: rolloutPath,
    SUPPORT_CONSUMER_GROUP: uniqueName('support.bench'),
    // e.g. BENCH_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles both instances.
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
  });
  const instances: StartedService[] = [];
  const sockets: Socket[] = [];
  try {
    // One after the other: the first applies the migrations.
    for (let i = 0; i < 2; i += 1) instances.push(await startBuiltService('support', { env, listenTimeoutMs: 120_000 }));
    progress(`two support instances listening: ${instances.map((s) => s.url).join(', ')}`);

    const agentCount = Math.ceil(conversations / AGENT_LOAD);
    const agentTokens = await Promise.all(
      Array.from({ length: agentCount }, (_, i) => idp.signTestToken({ sub: `agent-${i}`, role: 'support' }, { expiresIn: 3_600 })),
    );
    const personTokens = await Promise.all(
      Array.from({ length: conversations }, (_, i) => idp.signTestToken({ sub: `p-${i}`, role: 'person' }, { expiresIn: 3_600 })),
    );
    const ids: string[] = new Array<string>(conversations);
    await inParallel([...Array(conversations).keys()], 20, async (i) => {
      const person = instances[sideOf(i)];
      const agent = instances[1 - sideOf(i)];
      ids[i] = (await post<ConversationView>(`${person.url}/v1/support/conversations`, personTokens[i], { country: 'US', app: 'messenger' })).id;
      await post(`${agent.url}/v1/support/conversations/${ids[i]}/claim`, agentTokens[Math.floor(i / AGENT_LOAD)]);
    });
    progress(`${conversations} conversations opened and claimed by ${agentCount} agents`);

    // Who receives what, and when each message was emitted (by its client message id).
    const emittedAt = new Map<string, number>();
    /** What one run of messages measured (the warm-up's, then the measured load's). */
    interface Measured {
      latencies: number[];
      acks: number[];
      retries: number;
      receipts: number[];
      receiptFailures: number;
    }
    const measuring = (): Measured => ({ latencies: [], acks: [], retries: 0, receipts: [], receiptFailures: 0 });
    let current: Measured = measuring();
    const received = new Map<string, number[]>();
    /** Parties waiting for a conversation's message (`party:conversationId:seq`) to reach them: their turn to answer. */
    const turns = new Map<string, () => void>();
    const track = (socket: Socket, party: string): void => {
      socket.on('message', (message: MessageView) => {
        const at = performance.now();
        const key = `${party}:${message.conversationId}`;
        const seqs = received.get(key);
        if (seqs) seqs.push(message.seq);
        else received.set(key, [message.seq]);
        const turn = `${key}:${message.seq}`;
        turns.get(turn)?.();
        turns.delete(turn);
        // The other party's message: its delivery latency.
        if (message.author.role !== party) {
          const measured = current;
          measured.latencies.push(at - emittedAt.get(message.clientMessageId)!);
          if (receipts) {
            void socket
              .timeout(10_000)
              .emitWithAck('message.receipt', { conversationId: message.conversationId, kind: 'read', seq: message.seq })
              .then(
                (ack: { ok: boolean }) => (ack.ok ? measured.receipts.push(performance.now() - at) : (measured.receiptFailures += 1)),
                () => (measured.receiptFailures += 1),
              );
          }
        }
      });
    };
    const personSockets = await Promise.all(personTokens.map((token, i) => connect(instances[sideOf(i)].url, token)));
    const agentSockets: Socket[] = [];
    for (let a = 0; a < agentCount; a += 1) {
      // An agent's persons are all connected to one instance: the agent connects to the other one.
      agentSockets.push(await connect(instances[1 - sideOf(a * AGENT_LOAD)].url, agentTokens[a]));
    }
    sockets.push(...personSockets, ...agentSockets);
    personSockets.forEach((socket) => track(socket, 'person'));
    agentSockets.forEach((socket) => track(socket, 'agent'));
    await inParallel([...Array(conversations).keys()], 50, async (i) => {
      const joins = [
        personSockets[i].emitWithAck('conversation.join', { conversationId: ids[i] }),
        agentSockets[Math.floor(i / AGENT_LOAD)].emitWithAck('conversation.join', { conversationId: ids[i] }),
      ];
      for (const ack of (await Promise.all(joins)) as Array<{ ok: boolean }>) if (!ack.ok) throw new Error(`join refused: ${JSON.stringify(ack)}`);
    });
    progress(`${sockets.length} WebSockets connected (persons on one instance, their agents on the other) and joined`);

    /**
     * `count` more messages in every conversation after the `before` each already has, alternating
     * person (even positions from 0) and agent, paced or flooded; resolves once both parties of every
     * conversation received them all (and every receipt was answered) or a minute passed.
     */
    const exchange = async (before: number, count: number, replyAfter: number, staggered: boolean): Promise<number> => {
      const began = performance.now();
      await Promise.all(
        ids.map(async (conversationId, i) => {
          // Paced: the conversation begins at a random moment of the first reply interval.
          if (replyAfter > 0 && staggered) await new Promise((resolve) => setTimeout(resolve, Math.random() * replyAfter));
          for (let m = before; m < before + count; m += 1) {
            const socket = m % 2 === 0 ? personSockets[i] : agentSockets[Math.floor(i / AGENT_LOAD)];
            if (replyAfter > 0 && m > before) {
              // Paced: this party answers once the other's message m (seq m) reached it, after a person's reply time.
              const party = m % 2 === 0 ? 'person' : 'agent';
              if (!(received.get(`${party}:${conversationId}`) ?? []).includes(m))
                await new Promise<void>((resolve) => turns.set(`${party}:${conversationId}:${m}`, resolve));
              await new Promise((resolve) => setTimeout(resolve, replyAfter));
            }
            const clientMessageId = randomUUID();
            const at = performance.now();
            emittedAt.set(clientMessageId, at);
            // As a client does: no answer within 10 s, or TRY_AGAIN, sends again with the same id (stored once).
            for (let attempt = 1; ; attempt += 1) {
              const ack = (await socket
                .timeout(10_000)
                .emitWithAck('message.send', { conversationId, clientMessageId, text: `message ${m} of conversation ${i}` })
                .catch(() => ({ ok: false, code: 'NO_ANSWER' }))) as { ok: boolean; code?: string };
              if (ack.ok) break;
              current.retries += 1;
              if (attempt >= 5) throw new Error(`send failed 5 times: ${JSON.stringify(ack)}`);
            }
            current.acks.push(performance.now() - at);
          }
        }),
      );
      const deadline = Date.now() + 60_000;
      const measured = current;
      // Both parties of every conversation receive every message (their own too, as its echo), or the deadline passes.
      const complete = (): boolean => ids.every((id) => ['person', 'agent'].every((party) => (received.get(`${party}:${id}`)?.length ?? 0) >= before + count));
      const receiptsAnswered = (): boolean => !receipts || measured.receipts.length + measured.receiptFailures >= measured.latencies.length;
      while ((measured.latencies.length < conversations * count || !complete() || !receiptsAnswered()) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      return (performance.now() - began) / 1000;
    };

    // Production's instances are warm: the first messages after a start run code the JIT has not
    // compiled yet (a cold flood costs ~30% more CPU per message). The warm-up is a flood of its own
    // in the same conversations, reported apart and not counted in the load's figures.
    let warmupLine = 'warm-up: none (--warmup=0: the instances run the load cold)';
    if (warmup > 0) {
      const warmupSeconds = await exchange(0, warmup, 0, false);
      const measured = current;
      measured.latencies.sort((a, b) => a - b);
      warmupLine = `warm-up (instances started cold, not counted below): ${warmup} messages per conversation flooded, ${measured.latencies.length} delivered in ${warmupSeconds.toFixed(1)} s, delivery p50 ${percentile(measured.latencies, 50).toFixed(1)} ms, p99 ${percentile(measured.latencies, 99).toFixed(1)} ms`;
      progress(warmupLine);
      current = measuring();
    }

    /** CPU seconds so far by process: what the load costs each of them, read from /proc. */
    const cpu = (): Record<string, number> => ({
      'support instance 1': processCpuSeconds(instances[0].child.pid!) ?? Number.NaN,
      'support instance 2': processCpuSeconds(instances[1].child.pid!) ?? Number.NaN,
      'bench (the clients)': processCpuSeconds(process.pid)!,
      PostgreSQL: postgresCpuSeconds(),
      machine: machineCpuSeconds(),
    });
    const cpuBefore = cpu();
    const seconds = await exchange(warmup, perConversation, replyAfterMs, !lockstep);
    const cpuAfter = cpu();
    const total = conversations * perConversation;
    const { latencies, acks: ackLatencies, retries, receipts: receiptLatencies, receiptFailures } = current;

    // Every party got 1..N of its conversation, each once, in order (the warm-up's first).
    const expected = Array.from({ length: warmup + perConversation }, (_, k) => k + 1).join(',');
    const wrong = ids.flatMap((id) =>
      ['person', 'agent'].filter((party) => (received.get(`${party}:${id}`) ?? []).join(',') !== expected).map((party) => `${party}:${id}`),
    );

    latencies.sort((a, b) => a - b);
    ackLatencies.sort((a, b) => a - b);
    receiptLatencies.sort((a, b) => a - b);
    const ms = (value: number): string => `${value.toFixed(1)} ms`;
    const lines = [
      `support chat: ${conversations} conversations × ${perConversation} messages through two instances (${total} messages, ${sockets.length} WebSockets), ${replyAfterMs > 0 ? `each reply ${replyAfterMs} ms after the message it answers reached its sender, ${lockstep ? 'all conversations begun at once (lockstep)' : `conversations begun at random moments of the first ${replyAfterMs} ms`}` : 'flooded (each sender waits only for its previous acknowledgement)'}${receipts ? '; a read receipt sent for every message received from the other party' : ''}`,
      warmupLine,
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}`,
      `delivered ${latencies.length}/${total} to the other party in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} messages/s)`,
      `delivery latency (emit → other party's client): p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1) ?? NaN)}`,
      `CPU per message delivered (ms, from /proc over the load): ${Object.keys(cpuAfter)
        .map((name) => `${name} ${(((cpuAfter[name] - cpuBefore[name]) * 1000) / total).toFixed(3)}`)
        .join(', ')}`,
      `acknowledgement (stored) latency: p50 ${ms(percentile(ackLatencies, 50))}, p99 ${ms(percentile(ackLatencies, 99))}; sends retried: ${retries}`,
      ...(receipts
        ? [
            `read receipts stored: ${receiptLatencies.length}, failed or unanswered: ${receiptFailures}; acknowledgement p50 ${ms(percentile(receiptLatencies, 50))}, p99 ${ms(percentile(receiptLatencies, 99))}`,
          ]
        : []),
      `order and exactly-once at both parties: ${
        wrong.length === 0
          ? 'every conversation'
          : `${wrong.length} wrong, e.g. ${wrong
              .slice(0, 3)
              .map((key) => `${key} got [${(received.get(key) ?? []).join(',')}]`)
              .join(' ')}`
      }`,
      `p99 ≤ 200 ms: ${percentile(latencies, 99) <= 200 ? 'yes' : 'NO'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (wrong.length > 0 || latencies.length < total) process.exitCode = 1;
  } finally {
    for (const socket of sockets) socket.disconnect();
    for (const instance of instances) await instance.stop('SIGTERM', 20_000);
    await dropSchema(databaseUrl, schema).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:support failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
