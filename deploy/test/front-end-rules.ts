/**
 * Rules for the web front ends (web-front-ends.ts), which the services' Kafka rules do not cover:
 *
 * - web-front-end  a front end's container gets no Kafka setting (KAFKA_*, e.g. from
 *                  platform-config), no Kafka principal exists for it, and its NetworkPolicies do
 *                  not let it reach the Kafka cluster; one that keeps no sessions in PostgreSQL gets
 *                  no DATABASE_URL and cannot reach PostgreSQL. A front end is a Deployment of its
 *                  own, so the companions, probes, security and Ingress rules hold it as any other.
 */
import { effectiveEnv } from './container-env';
import type { Finding, KubeObject, PodSpec } from './kube-objects';
import { findingsOf, templateLabels, SERVICE_LABEL } from './kube-objects';
import type { Endpoint } from './network-model';
import { networkAllows, podsOf } from './network-model';
import type { WebFrontEnd } from './web-front-ends';

/** Where the platform's dependencies run (docs/deploy.md, "What the cluster must provide"). */
export const KAFKA_BROKERS_ENDPOINT: Endpoint = { namespace: 'kafka', labels: { 'strimzi.io/cluster': 'pay-kafka' } };
export const POSTGRES_ENDPOINT: Endpoint = { namespace: 'postgres', labels: {} };
const KAFKA_PORT = { number: 9092, protocol: 'TCP' };
const POSTGRES_PORT = { number: 5432, protocol: 'TCP' };

export function checkWebFrontEnds(objects: readonly KubeObject[], context: { webFrontEnds: Readonly<Record<string, WebFrontEnd>> }): Finding[] {
  return findingsOf('web-front-end', (say) => {
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const name = templateLabels(deployment)[SERVICE_LABEL];
      const frontEnd = name === undefined ? undefined : context.webFrontEnds[name];
      if (!frontEnd) continue;
      for (const container of (deployment.spec as { template: { spec: PodSpec } }).template.spec.containers ?? []) {
        const env = effectiveEnv(container, deployment, objects);
        const kafka = [...env.keys()].filter((variable) => variable.startsWith('KAFKA_'));
        if (kafka.length > 0)
          say(
            deployment,
            `container ${container.name} gets ${kafka.join(', ')}: a web front end reads no Kafka (take no platform-config; list its own settings)`,
          );
        if (!frontEnd.sessionsInDatabase && env.has('DATABASE_URL'))
          say(deployment, `container ${container.name} gets DATABASE_URL, but ${name} keeps no sessions in PostgreSQL (web-front-ends.ts)`);
      }
      if (objects.some((o) => o.kind === 'KafkaUser' && o.metadata.name === name))
        say(deployment, `KafkaUser ${name} exists: a web front end is no Kafka principal`);
      const pods = podsOf(deployment);
      if (networkAllows(objects, pods, KAFKA_BROKERS_ENDPOINT, KAFKA_PORT))
        say(deployment, 'its NetworkPolicies let it reach the Kafka cluster: a web front end talks to the services over HTTP only');
      if (!frontEnd.sessionsInDatabase && networkAllows(objects, pods, POSTGRES_ENDPOINT, POSTGRES_PORT))
        say(deployment, `its NetworkPolicies let it reach PostgreSQL, but ${name} keeps no sessions there`);
    }
  });
}
