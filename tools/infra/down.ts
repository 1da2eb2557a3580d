/** `npm run infra:down`: stops what `infra:up` started; leaves nothing running. */
import { stopEmbeddedPostgres } from './embedded-postgres';
import { stopKafka } from './kafka';

const log = (line: string): void => void process.stderr.write(`[infra] ${line}\n`);

Promise.all([stopKafka(log), stopEmbeddedPostgres(log)])
  .then(() => log('stopped'))
  .catch((error: unknown) => {
    log(`failed: ${(error as Error).message}`);
    process.exit(1);
  });
