/**
 * A supervised child for tools/supervisor.int-spec.ts: idle, stopping on SIGTERM like a service
 * (exit 0, writing `stopped by SIGTERM` to the file named by STOPPED_MARKER when set), and
 * watching its supervisor the way the services do (stopWhenSupervisorGone). Prints `ready` once
 * both are in place.
 */
import { writeFileSync } from 'node:fs';
import { stopWhenSupervisorGone } from '@pay/platform';

process.on('SIGTERM', () => {
  if (process.env.STOPPED_MARKER) writeFileSync(process.env.STOPPED_MARKER, 'stopped by SIGTERM');
  process.exit(0);
});
stopWhenSupervisorGone(() => undefined);
setInterval(() => undefined, 1_000);
process.stdout.write('ready\n');
