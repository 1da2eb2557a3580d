/**
 * Issue 15's demonstration of the producer's contract: a team that publishes to the platform
 * reads docs/asyncapi.yaml, builds a purchase request from it alone (the channel's address, the
 * message's example payload, what the document says the subject and the Kafka key are, the
 * headers it lists), publishes it with Kafka's own console producer through `npm run
 * kafka:produce`, and finds the payment captured by its requestId over HTTP; then reads the answer,
 * keyed by the payment, with Kafka's console consumer through `npm run kafka:consume`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Topics } from '@pay/contracts';
import { testKafkaBrokers, testKafkaCredentials, waitFor } from '@pay/testing';
import { parse } from 'yaml';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { http, startPaymentsPlatform } from './e2e-kit';

const ROOT = resolve(__dirname, '../..');

/** The parts of the AsyncAPI document a producer reads. */
interface AsyncApiDocument {
  channels: Record<string, { address: string; messages?: Record<string, { $ref: string }> }>;
  components: {
    messages: Record<
      string,
      {
        name: string;
        headers: { $ref: string };
        payload: { allOf: { properties?: { subject?: { description: string } } }[] };
        bindings: { kafka: { key: { description: string } } };
        examples: { payload: { type: string; data: Record<string, unknown> } & Record<string, unknown> }[];
      }
    >;
    schemas: Record<string, { properties: Record<string, unknown> }>;
  };
}

/**
 * `npm run -s kafka:<tool> -- <args>` signed in as `user` (on a broker with SASL), with `lines` on its
 * standard input; resolves with its exit code and output.
 */
function kafkaConsole(tool: 'produce' | 'consume', user: string, args: string[], lines = ''): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['run', '-s', `kafka:${tool}`, '--', ...args], {
      cwd: ROOT,
      // As an npm user runs it: Node 24 of node_modules first on PATH; the broker from KAFKA_BROKERS.
      env: {
        ...process.env,
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        ...testKafkaCredentials(user),
        npm_config_prefix: undefined,
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, output }));
    child.stdin.end(lines);
  });
}

describe('a purchase published with Kafka’s console producer from the AsyncAPI document alone', () => {
  const doc = parse(readFileSync(resolve(ROOT, 'docs/asyncapi.yaml'), 'utf8')) as AsyncApiDocument;
  const messageName = 'PaymentsPurchaseRequestedV1';
  const channel = Object.values(doc.channels).find((c) => c.messages?.[messageName] !== undefined);
  let platform: PaymentsPlatform;
  let person: TestPerson;

  beforeAll(async () => {
    if (!channel) throw new Error(`docs/asyncapi.yaml has no channel carrying ${messageName}`);
    // Orchestration reads the topic the document names, as in production.
    platform = await startPaymentsPlatform({ orchestrationEnv: { PURCHASE_REQUESTS_TOPIC: channel.address } });
    person = await platform.person({ country: 'US', apps: ['instagram'] });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('is captured, and its outcome is found by requestId over HTTP', async () => {
    const message = doc.components.messages[messageName];
    // What the document says subject and key are: the request's data.requestId, the key the same string.
    const subjectRule = message.payload.allOf.map((part) => part.properties?.subject?.description).find((d) => d !== undefined);
    expect(subjectRule).toMatch(/`data\.requestId`/);
    expect(message.bindings.kafka.key.description).toMatch(/^Equal to the envelope's subject/);
    const headerNames = Object.keys(doc.components.schemas[message.headers.$ref.split('/').pop() as string].properties);
    expect(headerNames).toEqual(expect.arrayContaining(['event-type', 'event-id', 'authorization']));

    // The example, with what is ours: new ids, our payer, a country and app where Pay is active for them.
    const example = message.examples[0].payload;
    const requestId = randomUUID();
    const envelope = {
      ...example,
      id: randomUUID(),
      subject: requestId,
      occurredAt: new Date().toISOString(),
      correlationId: randomUUID(),
      data: { ...example.data, requestId, payerId: person.id, country: 'US', app: 'instagram', amount: { amount: '1250', currency: 'USD' } },
    };
    expect(envelope.type).toBe(message.name);
    // The sender: instagram's backend, its access token in the `authorization` header the document requires.
    const headers = `event-type:${envelope.type},event-id:${envelope.id},authorization:Bearer ${await platform.serviceToken('service', 'instagram')}`;

    // On a broker with SASL (TEST_KAFKA_SASL=1) the team publishes as its app backend's principal.
    const produced = await kafkaConsole(
      'produce',
      'app-instagram',
      ['--topic', channel!.address, '--property', 'parse.key=true', '--property', 'parse.headers=true'],
      `${headers}\t${requestId}\t${JSON.stringify(envelope)}\n`,
    );
    expect(produced).toMatchObject({ code: 0 });

    const service = await platform.serviceToken();
    const found = await waitFor(
      () => http(`${platform.orchestrationUrl}/v1/payments?requestId=${requestId}&payerId=${person.id}`, 'GET', service),
      (answer) => (answer.body.payments as { status: string }[] | undefined)?.[0]?.status === 'captured',
      { what: 'the purchase captured, looked up by requestId', timeoutMs: 60_000 },
    );
    expect(found.body).toMatchObject({ payments: [{ requestId, payerId: person.id, status: 'captured', amount: { amount: '1250', currency: 'USD' } }] });
    // The answer on payments.events.v1, keyed by the payment.
    const paymentId = (found.body.payments as { paymentId: string }[])[0].paymentId;
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    // …as Kafka's console consumer shows it (`npm run kafka:consume`, as an operator: docs/local-infrastructure.md).
    const consumed = await kafkaConsole('consume', 'admin', [
      '--topic',
      Topics.paymentEvents,
      '--from-beginning',
      '--property',
      'print.key=true',
      '--timeout-ms',
      '15000',
    ]);
    const answers = consumed.output
      .split('\n')
      .filter((line) => line.startsWith(`${paymentId}\t`))
      .map((line) => (JSON.parse(line.slice(paymentId.length + 1)) as { type: string; subject: string }).type);
    expect({ answers, output: answers.length === 0 ? consumed.output.slice(-2_000) : '' }).toEqual({
      answers: expect.arrayContaining(['payments.payment.initiated', 'payments.payment.captured']),
      output: '',
    });
    // The first run on a machine fetches the console tools with Maven (once, into .cache/), then starts a JVM.
  }, 360_000);
});
