/**
 * Every rule the test (tools/test/k8s-manifests.repo-spec.ts) applies to the rendered manifests,
 * beyond what the API schemas say (kube-schema.ts), and where each lives. A rule is a function
 * of the objects (no rendering, no cluster) that returns its findings, each naming the object at
 * fault and the rule, so a test can break an object and see the rule catch it.
 *
 * Manifest rules (checkManifests): the objects alone, and what libs/contracts says of the topics
 *
 *   rule            module               function
 *   schema          workload-rules.ts    checkPodHasContainers
 *   probes          workload-rules.ts    checkProbes
 *   resources       workload-rules.ts    checkResources
 *   security        workload-rules.ts    checkSecurity
 *   writable-tmp    workload-rules.ts    checkWritableTmp
 *   image           workload-rules.ts    checkImages
 *   references      workload-rules.ts    checkConfigMapReferences
 *   shutdown        workload-rules.ts    checkShutdown
 *   config          config-rules.ts      checkServiceConfig
 *   inline-secret   config-rules.ts      checkInlineSecrets
 *   batch           job-rules.ts         checkBatch
 *   migration       job-rules.ts         checkMigrationJobs
 *   companions      companion-rules.ts   checkCompanions
 *   autoscaling     companion-rules.ts   checkAutoscaling
 *   kafka-topics    kafka-rules.ts       checkKafkaTopics
 *   kafka-users     kafka-rules.ts       checkKafkaUsers
 *   web-front-end   front-end-rules.ts   checkWebFrontEnds
 *
 * Wiring rules (checkWiring): what the services, their tools and docs/deploy.md make of the
 * objects: the services' own config classes and parsers, the Secrets table
 *
 *   rule            module               function
 *   config-env      config-rules.ts      checkConfigEnv (servers)
 *   config-env      job-rules.ts         checkJobConfigEnv (Jobs and their tools)
 *   config-files    config-rules.ts      checkConfigFiles
 *   references      docs-tables.ts       checkSecretsDocumented
 *   references      workload-rules.ts    checkVolumeReferences
 *   ingress         network-rules.ts     checkIngresses
 *   network         network-rules.ts     checkNetworkPaths
 *
 * Each module's header says what its rules demand. To add a rule: write it in the module of its
 * concern (a function of the objects returning findingsOf(rule, ...)), list it below, and break
 * the render in tools/test/k8s-manifests.repo-spec.ts to see it report ("the rule checker", "the
 * wiring rules").
 */
import { checkAutoscaling, checkCompanions } from './companion-rules';
import type { ScalingContext } from './companion-rules';
import { checkConfigEnv, checkConfigFiles, checkInlineSecrets, checkServiceConfig } from './config-rules';
import { checkSecretsDocumented } from './docs-tables';
import { checkWebFrontEnds } from './front-end-rules';
import type { DocumentedSecrets } from './docs-tables';
import { checkBatch, checkJobConfigEnv, checkMigrationJobs } from './job-rules';
import { checkKafkaTopics, checkKafkaUsers } from './kafka-rules';
import type { TopicContext } from './kafka-rules';
import type { Finding, KubeObject } from './kube-objects';
import { checkIngresses, checkNetworkPaths } from './network-rules';
import {
  checkConfigMapReferences,
  checkImages,
  checkPodHasContainers,
  checkProbes,
  checkResources,
  checkSecurity,
  checkShutdown,
  checkVolumeReferences,
  checkWritableTmp,
} from './workload-rules';

/** What the manifest rules know beyond the objects: the topics libs/contracts defines, who consumes which, the web front ends, production or not. */
export interface RuleContext extends TopicContext, ScalingContext {}

export type ManifestRule = (objects: readonly KubeObject[], context: RuleContext) => Finding[];
export type WiringRule = (objects: readonly KubeObject[], secrets: DocumentedSecrets) => Finding[];

export const MANIFEST_RULES: readonly ManifestRule[] = [
  checkPodHasContainers,
  checkProbes,
  checkResources,
  checkSecurity,
  checkWritableTmp,
  checkImages,
  checkConfigMapReferences,
  checkShutdown,
  checkServiceConfig,
  checkInlineSecrets,
  checkBatch,
  checkMigrationJobs,
  checkCompanions,
  checkAutoscaling,
  checkKafkaTopics,
  checkKafkaUsers,
  checkWebFrontEnds,
];

export const WIRING_RULES: readonly WiringRule[] = [
  checkConfigEnv,
  checkJobConfigEnv,
  checkConfigFiles,
  checkSecretsDocumented,
  checkVolumeReferences,
  checkIngresses,
  checkNetworkPaths,
];

export function checkManifests(objects: readonly KubeObject[], context: RuleContext): Finding[] {
  return MANIFEST_RULES.flatMap((rule) => rule(objects, context));
}

/** The wiring rules, given the Secrets docs/deploy.md documents (documentedSecrets(readDeployDoc())). */
export function checkWiring(objects: readonly KubeObject[], secrets: DocumentedSecrets): Finding[] {
  return WIRING_RULES.flatMap((rule) => rule(objects, secrets));
}
