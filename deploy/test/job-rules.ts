/**
 * Rules for the Jobs and CronJobs: that they end, that every service has its migration Job, and
 * that each one's tool accepts the configuration the manifests give it:
 *
 * - batch          a Job or CronJob has activeDeadlineSeconds and restartPolicy Never or OnFailure
 * - migration      every Deployment has a migration Job (labels app.kubernetes.io/name and
 *                  app.kubernetes.io/component=migration) that runs its image,
 *                  node dist/tools/migrate.js and SERVICE=<service>
 * - config-env     every Job's command is one of TOOL_CONFIGS, whose own validation accepts the
 *                  Job's environment under the same checks as a server's (config-rules.ts), and it
 *                  takes from Secrets only what its tool reads
 */
import { migrationPlan, rebuildTarget } from '@pay/tools';
import { loadStartupConfig } from './config-rules';
import type { DocumentedSecrets } from './docs-tables';
import type { Container, Finding, KubeObject, PodSpec } from './kube-objects';
import { findingsOf, podSpecOf, sameNamespace, SERVICE_LABEL, templateLabels, workloads } from './kube-objects';

/**
 * What a Job's command validates before it does anything: the tool's own validation, given the
 * Job's environment. It returns the configuration it loaded (an instance of the config class the
 * tool reads, whose variables are all the tool reads) and throws ConfigError where the tool would
 * refuse to start. null: the tool reads only plain variables.
 */
export const TOOL_CONFIGS: Readonly<Record<string, ((env: Readonly<Record<string, string>>) => object) | null>> = {
  // DATABASE_URL, DB_SCHEMA and SERVICE.
  'node dist/tools/migrate.js': (env) => migrationPlan([], env).config,
  // DATABASE_URL and DB_SCHEMA.
  'node dist/tools/history/rebuild.js': (env) => rebuildTarget(env).config,
  // DATABASE_URL and LEDGER_SCHEMA only (tools/ledger/ledger-cli.ts).
  'node dist/tools/ledger/verify.js': null,
};

/** A container's command line, arguments included (undefined when the image's entrypoint runs). */
export function commandOf(container: Container): string | undefined {
  return container.command ? [...container.command, ...(container.args ?? [])].join(' ') : undefined;
}

export function checkBatch(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('batch', (say) => {
    for (const workload of workloads(objects)) {
      const { owner } = workload;
      if (owner.kind !== 'Job' && owner.kind !== 'CronJob') continue;
      const pod = podSpecOf(workload);
      const spec = owner.spec as Record<string, unknown> | undefined;
      const jobSpec = (owner.kind === 'CronJob' ? (spec?.jobTemplate as { spec?: Record<string, unknown> } | undefined)?.spec : spec) ?? {};
      if (typeof jobSpec.activeDeadlineSeconds !== 'number') say(owner, 'has no activeDeadlineSeconds: a hung run would hold its slot forever');
      if (pod.restartPolicy !== 'Never' && pod.restartPolicy !== 'OnFailure') say(owner, 'pod restartPolicy must be Never or OnFailure');
    }
  });
}

export function checkMigrationJobs(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('migration', (say) => {
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const service = templateLabels(deployment)[SERVICE_LABEL];
      const image = (deployment.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec?.containers?.[0]?.image;
      const migrations = objects.filter(
        (o) =>
          o.kind === 'Job' &&
          sameNamespace(o, deployment) &&
          o.metadata.labels?.['app.kubernetes.io/component'] === 'migration' &&
          o.metadata.labels[SERVICE_LABEL] === service,
      );
      if (migrations.length === 0) {
        say(deployment, `no migration Job (labels ${SERVICE_LABEL}=${service}, app.kubernetes.io/component=migration)`);
        continue;
      }
      for (const job of migrations) {
        const container = (job.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec?.containers?.[0];
        if (container?.image !== image) say(job, `runs image ${container?.image}, not ${image} of Deployment ${deployment.metadata.name}`);
        if (!container?.command?.join(' ').includes('dist/tools/migrate.js')) say(job, 'does not run node dist/tools/migrate.js');
        if (container?.env?.find((variable) => variable.name === 'SERVICE')?.value !== service) say(job, `does not set SERVICE=${service}`);
      }
    }
  });
}

/** config-env for Jobs and CronJobs; for servers see checkConfigEnv (config-rules.ts). */
export function checkJobConfigEnv(objects: readonly KubeObject[], secrets: DocumentedSecrets): Finding[] {
  return findingsOf('config-env', (say) => {
    for (const workload of workloads(objects)) {
      if (workload.longRunning) continue;
      for (const container of workload.template.spec?.containers ?? []) {
        const report = (message: string): void => say(workload.owner, `container ${container.name} ${message}`);
        const command = commandOf(container);
        const load = command === undefined ? undefined : TOOL_CONFIGS[command];
        if (command === undefined || load === undefined) {
          report(`runs ${command ?? 'its image'}: say in TOOL_CONFIGS (deploy/test/job-rules.ts) what it validates`);
          continue;
        }
        if (load === null) continue;
        const started = loadStartupConfig(container, workload.owner, objects, secrets, { what: command, load }, report);
        if (!started) continue;
        for (const variable of [...started.fromSecrets].filter((name) => !started.reads.has(name))) {
          report(
            `takes ${variable} from a Secret, and ${command} never reads it (it reads ${[...started.reads].join(', ')}): a Job gets only the keys its tool uses`,
          );
        }
      }
    }
  });
}
