/**
 * Rules for what every Deployment comes with, and how it scales:
 *
 * - companions     every Deployment has a Service, exactly one PodDisruptionBudget, an HPA and a
 *                  NetworkPolicy of its own selecting its pods; every namespace with workloads has
 *                  a default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)
 * - autoscaling    an HPA scales a Deployment among the manifests, minReplicas ≤ maxReplicas, and
 *                  maxReplicas ≤ the fewest partitions among the topics its service consumes
 *                  (consumed-topics.ts, partitions from libs/contracts; a web front end,
 *                  web-front-ends.ts, consumes none and has no ceiling); a PDB never blocks every
 *                  eviction at the HPA's minimum
 */
import type { TopicPartitions } from './kafka-rules';
import type { Finding, KubeObject, LabelSelector } from './kube-objects';
import type { WebFrontEnd } from './web-front-ends';
import { findingsOf, sameNamespace, selectorMatches, selectsEverything, SERVICE_LABEL, templateLabels, workloads } from './kube-objects';

export interface ScalingContext {
  /** Every topic that must exist, with its partitions (libs/contracts allTopicSpecs()). */
  topics: readonly TopicPartitions[];
  /** Topics each service consumes, by its `app.kubernetes.io/name`. */
  consumedTopics: Readonly<Record<string, readonly string[]>>;
  /** The web front ends (web-front-ends.ts): no consumer group, so no partition ceiling. */
  webFrontEnds: Readonly<Record<string, WebFrontEnd>>;
}

export function checkCompanions(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('companions', (say) => {
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const labels = templateLabels(deployment);
      const name = deployment.metadata.name;
      const inNamespace = objects.filter((o) => sameNamespace(o, deployment));

      const services = inNamespace.filter((o) => {
        const selector = (o.spec as { selector?: Record<string, string> } | undefined)?.selector;
        return o.kind === 'Service' && !!selector && Object.keys(selector).length > 0 && selectorMatches({ matchLabels: selector }, labels);
      });
      if (services.length === 0) say(deployment, 'no Service selects its pods');

      const budgets = inNamespace.filter(
        (o) => o.kind === 'PodDisruptionBudget' && selectorMatches((o.spec as { selector?: LabelSelector } | undefined)?.selector, labels),
      );
      if (budgets.length === 0) say(deployment, 'no PodDisruptionBudget selects its pods');
      if (budgets.length > 1) say(deployment, `${budgets.length} PodDisruptionBudgets select its pods: the eviction API refuses to evict any of them`);

      const autoscalers = inNamespace.filter((o) => {
        const target = (o.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
        return o.kind === 'HorizontalPodAutoscaler' && target?.kind === 'Deployment' && target.name === name;
      });
      if (autoscalers.length === 0) say(deployment, 'no HorizontalPodAutoscaler scales it');

      const policies = inNamespace.filter((o) => {
        const spec = o.spec as { podSelector?: LabelSelector; policyTypes?: string[] } | undefined;
        return o.kind === 'NetworkPolicy' && !selectsEverything(spec?.podSelector) && selectorMatches(spec?.podSelector, labels);
      });
      if (policies.length === 0) say(deployment, 'no NetworkPolicy of its own selects its pods');
    }

    const namespaces = new Set(workloads(objects).map((w) => w.owner.metadata.namespace ?? ''));
    for (const namespace of namespaces) {
      const denies = objects.some((o) => {
        const spec = o.spec as { podSelector?: LabelSelector; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] } | undefined;
        return (
          o.kind === 'NetworkPolicy' &&
          (o.metadata.namespace ?? '') === namespace &&
          selectsEverything(spec?.podSelector) &&
          !!spec?.policyTypes?.includes('Ingress') &&
          !!spec.policyTypes.includes('Egress') &&
          !spec.ingress?.length &&
          !spec.egress?.length
        );
      });
      if (!denies)
        say({ kind: 'Namespace', metadata: { name: namespace } }, 'has no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)');
    }
  });
}

export function checkAutoscaling(objects: readonly KubeObject[], context: ScalingContext): Finding[] {
  return findingsOf('autoscaling', (say) => {
    for (const autoscaler of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const spec = (autoscaler.spec ?? {}) as { scaleTargetRef?: { kind?: string; name?: string }; minReplicas?: number; maxReplicas?: number };
      const target = objects.find((o) => o.kind === spec.scaleTargetRef?.kind && o.metadata.name === spec.scaleTargetRef?.name && sameNamespace(o, autoscaler));
      if (!target) {
        say(autoscaler, `scales ${spec.scaleTargetRef?.kind} ${spec.scaleTargetRef?.name}, which is not among the manifests`);
        continue;
      }
      const minReplicas = spec.minReplicas ?? 1;
      const maxReplicas = spec.maxReplicas ?? 0;
      if (minReplicas > maxReplicas) say(autoscaler, `minReplicas ${minReplicas} exceeds maxReplicas ${maxReplicas}`);

      const service = templateLabels(target)[SERVICE_LABEL];
      const consumed = service === undefined ? undefined : service in context.webFrontEnds ? [] : context.consumedTopics[service];
      if (!consumed) {
        say(
          autoscaler,
          `${target.kind} ${target.metadata.name} (${SERVICE_LABEL}=${service ?? '<unset>'}) has no entry in the consumed-topics table: say which topics it consumes (or list a web front end in web-front-ends.ts)`,
        );
      } else if (consumed.length > 0) {
        const partitions = consumed.map((topic) => context.topics.find((t) => t.name === topic)?.partitions);
        const unknown = consumed.filter((_, index) => partitions[index] === undefined);
        if (unknown.length > 0) say(autoscaler, `${service} consumes ${unknown.join(', ')}, which libs/contracts does not define`);
        const ceiling = Math.min(...partitions.filter((p): p is number => p !== undefined));
        if (maxReplicas > ceiling) {
          say(
            autoscaler,
            `maxReplicas ${maxReplicas} exceeds ${ceiling}, the fewest partitions among the topics ${service} consumes (${consumed.join(', ')}): the extra consumers would sit idle`,
          );
        }
      }

      const labels = templateLabels(target);
      for (const budget of objects.filter((o) => o.kind === 'PodDisruptionBudget' && sameNamespace(o, autoscaler))) {
        const budgetSpec = (budget.spec ?? {}) as { selector?: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string };
        if (!selectorMatches(budgetSpec.selector, labels)) continue;
        if (budgetSpec.maxUnavailable === 0 || budgetSpec.maxUnavailable === '0%') say(budget, 'maxUnavailable 0 blocks every node drain');
        if (typeof budgetSpec.minAvailable === 'number' && budgetSpec.minAvailable >= minReplicas) {
          say(budget, `minAvailable ${budgetSpec.minAvailable} with as few as ${minReplicas} replicas (HPA minReplicas) blocks every node drain`);
        }
      }
    }
  });
}
