/**
 * The "Secrets" table of docs/deploy.md, which tells operators which Secrets and keys to create
 * and who reads each: how to read it, what the manifests say instead (secretReferences,
 * secretReaders), and the rule that every Secret a pod or an Ingress names is in it:
 *
 * - references     every Secret (and key) an env, envFrom, volume or Ingress TLS names is a row
 *                  of the table (checkSecretsDocumented)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IIngressSpec } from 'kubernetes-models/networking.k8s.io/v1/IngressSpec';
import type { Finding, KubeObject } from './kube-objects';
import { findingsOf, podSpecOf, workloads } from './kube-objects';

export const DEPLOY_DOC = resolve(__dirname, '../../docs/deploy.md');

export function readDeployDoc(): string {
  return readFileSync(DEPLOY_DOC, 'utf8');
}

/** The Secrets docs/deploy.md tells operators to create: its "Secrets" table, name to keys. */
export type DocumentedSecrets = ReadonlyMap<string, ReadonlySet<string>>;

function secretsSection(markdown: string): string {
  return /^## Secrets\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
}

/** A section's table of names in backquotes, each with the backquoted keys of its second column (a name on several rows: their keys together). */
function namesAndKeys(section: string): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const keys = names.get(row[1]) ?? new Set<string>();
    for (const key of row[2].matchAll(/`([^`]+)`/g)) keys.add(key[1]);
    names.set(row[1], keys);
  }
  return names;
}

export function documentedSecrets(markdown: string): DocumentedSecrets {
  return namesAndKeys(secretsSection(markdown));
}

/**
 * The "read by" column of that table, by `Secret/key`: a Deployment by its service's name (`every
 * service`: all of them), a web front end by its name (never among `every service`), a Job or
 * CronJob by its name in backquotes; other words say nothing.
 */
export function documentedReaders(markdown: string, services: readonly string[], frontEnds: readonly string[] = []): Map<string, Set<string>> {
  const readers = new Map<string, Set<string>>();
  for (const line of secretsSection(markdown).split('\n')) {
    const row = /^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|/.exec(line);
    if (!row) continue;
    const names = new Set<string>();
    for (const part of row[3].split(',').map((text) => text.trim())) {
      if (part === 'every service') services.forEach((service) => names.add(service));
      else if (/^`[^`]+`$/.test(part) || services.includes(part) || frontEnds.includes(part)) names.add(part);
    }
    for (const key of row[2].matchAll(/`([^`]+)`/g)) readers.set(`${row[1]}/${key[1]}`, new Set([...(readers.get(`${row[1]}/${key[1]}`) ?? []), ...names]));
  }
  return readers;
}

/**
 * Every Secret the objects reference, with the keys they name: secretKeyRef keys, none for an
 * envFrom or volume Secret (all its keys), tls.crt and tls.key for an Ingress TLS Secret (the
 * Ingress API reads those).
 */
export function secretReferences(objects: readonly KubeObject[]): Map<string, Set<string>> {
  const references = new Map<string, Set<string>>();
  const add = (name: string | undefined, key?: string): void => {
    const keys = references.get(name ?? '') ?? new Set<string>();
    if (key !== undefined) keys.add(key);
    references.set(name ?? '', keys);
  };
  for (const { template } of workloads(objects)) {
    for (const container of template.spec?.containers ?? []) {
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref) add(ref.name, ref.key);
      }
      for (const source of container.envFrom ?? []) if (source.secretRef) add(source.secretRef.name);
    }
    for (const volume of template.spec?.volumes ?? []) if (volume.secret) add(volume.secret.secretName);
  }
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const tls of (ingress.spec as IIngressSpec).tls ?? []) ['tls.crt', 'tls.key'].forEach((key) => add(tls.secretName, key));
  }
  return references;
}

/**
 * Who reads each `Secret/key`, in the words of the "read by" column: a Deployment by its name, a
 * Job or CronJob by its name in backquotes. An envFrom or volume Secret counts as read whole: all
 * the keys the table lists for it.
 */
export function secretReaders(objects: readonly KubeObject[], secrets: DocumentedSecrets): Map<string, Set<string>> {
  const readers = new Map<string, Set<string>>();
  const add = (secret: string | undefined, key: string, reader: string): void => {
    readers.set(`${secret}/${key}`, new Set([...(readers.get(`${secret}/${key}`) ?? []), reader]));
  };
  for (const { owner, template } of workloads(objects)) {
    const reader = owner.kind === 'Deployment' ? owner.metadata.name! : `\`${owner.metadata.name}\``;
    for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref) add(ref.name, ref.key, reader);
      }
      for (const source of container.envFrom ?? []) {
        if (source.secretRef) for (const key of secrets.get(source.secretRef.name ?? '') ?? []) add(source.secretRef.name, key, reader);
      }
    }
    for (const volume of template.spec?.volumes ?? []) {
      const keys = volume.secret?.items?.map((item) => item.key) ?? [...(secrets.get(volume.secret?.secretName ?? '') ?? [])];
      if (volume.secret) for (const key of keys) add(volume.secret.secretName, key, reader);
    }
  }
  return readers;
}

/** Every Secret (and key) a pod or an Ingress names is one docs/deploy.md tells operators to create. */
export function checkSecretsDocumented(objects: readonly KubeObject[], secrets: DocumentedSecrets): Finding[] {
  /** Why a Secret (and key) reference would not resolve once the operator created what docs/deploy.md lists, or undefined. */
  const undocumented = (name: string | undefined, key?: string): string | undefined => {
    const keys = secrets.get(name ?? '');
    if (!keys) return `Secret ${name}, which docs/deploy.md ("Secrets") does not tell operators to create`;
    if (key !== undefined && !keys.has(key)) return `key ${key} of Secret ${name}, which docs/deploy.md ("Secrets") does not list`;
    return undefined;
  };
  return findingsOf('references', (say) => {
    for (const workload of workloads(objects)) {
      const { owner } = workload;
      const pod = podSpecOf(workload);
      for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          const problem = ref && !ref.optional ? undocumented(ref.name, ref.key) : undefined;
          if (problem) say(owner, `container ${container.name} reads ${variable.name} from ${problem}`);
        }
        for (const source of container.envFrom ?? []) {
          const problem = source.secretRef && !source.secretRef.optional ? undocumented(source.secretRef.name) : undefined;
          if (problem) say(owner, `container ${container.name} takes env from ${problem}`);
        }
      }
      for (const volume of pod.volumes ?? []) {
        if (!volume.secret || volume.secret.optional) continue;
        for (const key of volume.secret.items?.map((item) => item.key) ?? [undefined]) {
          const problem = undocumented(volume.secret.secretName, key);
          if (problem) say(owner, `volume ${volume.name} mounts ${problem}`);
        }
      }
    }
    for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
      for (const tls of (ingress.spec as IIngressSpec | undefined)?.tls ?? []) {
        const problem = undocumented(tls.secretName);
        if (problem) say(ingress, `serves TLS from ${problem}`);
      }
    }
  });
}

/** The ConfigMaps docs/deploy.md tells deployers to create: its "ConfigMaps you create" table, name to keys. */
export function documentedDeployTimeConfigMaps(markdown: string): Map<string, Set<string>> {
  return namesAndKeys(/^## ConfigMaps you create\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1] ?? '');
}
