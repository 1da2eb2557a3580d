/**
 * A supervised child for tools/supervisor.int-spec.ts: idle, stopping on SIGTERM or SIGINT like a
 * service (exit 0, writing `stopped by <signal>` to the file named by STOPPED_MARKER when set), and
 * watching its supervisor the way the services do (stopWhenSupervisorGone). Prints `ready` once
 * both are in place.
 */
import { writeFileSync } from 'node:fs';
import { stopWhenSupervisorGone } from '@pay/platform';

// As run-service.ts: SIGTERM (Kubernetes, the supervisor) and SIGINT (Ctrl-C, sent to the whole process group) stop it.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (process.env.STOPPED_MARKER) writeFileSync(process.env.STOPPED_MARKER, `stopped by ${signal}`);
    process.exit(0);
  });
}
stopWhenSupervisorGone(() => undefined);
setInterval(() => undefined, 1_000);
process.stdout.write('ready\n');
