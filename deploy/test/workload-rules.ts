/**
 * Rules for every pod template (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods):
 * how its containers are probed, sized, locked down and pinned, and that what they reference
 * exists. Each is a function of the rendered objects alone and returns what it finds:
 *
 * - schema         a pod template has containers
 * - probes         every long-running container has startup, liveness (/health/live) and
 *                  readiness (/health/ready) probes on a port it declares
 * - resources      every container requests and limits cpu and memory, requests ≤ limits
 * - security       non-root (pod and container), a user id, no privilege escalation, a read-only
 *                  root file system, ALL capabilities dropped, a seccomp profile, no host namespaces
 * - writable-tmp   a read-only root file system comes with an emptyDir at /tmp
 * - image          every image has a tag or digest, and the tag is not `latest`
 * - shutdown       terminationGracePeriodSeconds leaves a consumer time to finish and commit
 * - references     ConfigMaps, keys and ServiceAccounts a pod's env names exist
 *                  (checkConfigMapReferences); every volume a container mounts is declared, every
 *                  ConfigMap volume exists with its keys (checkVolumeReferences, a wiring rule)
 */
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { Container, Finding, KubeObject } from './kube-objects';
import { configMapsOf, dataOf, findingsOf, inNamespaceOf, podSpecOf, sameNamespace, workloadContainers, workloads } from './kube-objects';

/** Preserves 5 s of preStop, the message in hand (up to 5 attempts with backoff), the offset commit, the relay and HTTP drain. */
export const MIN_TERMINATION_GRACE_SECONDS = 45;

export function checkPodHasContainers(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('schema', (say) => {
    for (const workload of workloads(objects)) {
      if ((podSpecOf(workload).containers ?? []).length === 0) say(workload.owner, 'pod template has no containers');
    }
  });
}

function probePath(probe: IProbe | undefined): string | undefined {
  return probe?.httpGet?.path;
}

export function checkProbes(objects: readonly KubeObject[]): Finding[] {
  const expected: Array<[keyof Container & `${string}Probe`, string]> = [
    ['startupProbe', '/health/live'],
    ['livenessProbe', '/health/live'],
    ['readinessProbe', '/health/ready'],
  ];
  return findingsOf('probes', (say) => {
    for (const { owner, longRunning, container, main, where } of workloadContainers(objects)) {
      if (!longRunning || !main) continue;
      const ports = container.ports ?? [];
      for (const [field, path] of expected) {
        const probe = container[field];
        if (!probe) {
          say(owner, `${where} has no ${field}`);
          continue;
        }
        if (probePath(probe) !== path) {
          // A liveness probe that checks PostgreSQL and Kafka restarts every pod when one of them blips.
          say(owner, `${where} ${field} must GET ${path}, not ${probePath(probe) ?? 'a non-HTTP check'}`);
        }
        const port = probe.httpGet?.port;
        if (port !== undefined && !ports.some((p) => p.name === port || p.containerPort === port)) {
          say(owner, `${where} ${field} targets port ${port}, which the container does not declare`);
        }
      }
    }
  });
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity ("250m", "1Gi", 2) as a number, or undefined if it is not one. */
export function parseQuantity(quantity: string | number | undefined): number | undefined {
  if (typeof quantity === 'number') return quantity;
  const match = quantity === undefined ? null : QUANTITY.exec(quantity);
  return match ? Number(match[1]) * (MULTIPLIERS[match[2] ?? ''] ?? Number.NaN) : undefined;
}

export function checkResources(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('resources', (say) => {
    for (const { owner, container, where } of workloadContainers(objects)) {
      const resources = container.resources ?? {};
      for (const kind of ['requests', 'limits'] as const) {
        const values = resources[kind];
        if (!values) {
          say(owner, `${where} has no resources.${kind}`);
          continue;
        }
        for (const resource of ['cpu', 'memory']) {
          if (values[resource] === undefined) say(owner, `${where} has no resources.${kind}.${resource}`);
        }
      }
      for (const resource of ['cpu', 'memory']) {
        const request = parseQuantity(resources.requests?.[resource]);
        const limit = parseQuantity(resources.limits?.[resource]);
        if (request !== undefined && limit !== undefined && request > limit) {
          say(owner, `${where} requests more ${resource} than its limit (the API server refuses it)`);
        }
      }
    }
  });
}

export function checkSecurity(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('security', (say) => {
    for (const workload of workloads(objects)) {
      const pod = podSpecOf(workload);
      if (pod.securityContext?.runAsNonRoot !== true) say(workload.owner, 'pod securityContext.runAsNonRoot is not true');
      if (pod.hostNetwork || pod.hostPID || pod.hostIPC) say(workload.owner, 'pod shares a host namespace (hostNetwork, hostPID or hostIPC)');
    }
    for (const { owner, pod, container, where } of workloadContainers(objects)) {
      const own = container.securityContext;
      const inherited = pod.securityContext;
      if (!own) say(owner, `${where} has no securityContext`);
      if ((own?.runAsNonRoot ?? inherited?.runAsNonRoot) !== true) say(owner, `${where} may run as root: runAsNonRoot is not true`);
      const user = own?.runAsUser ?? inherited?.runAsUser;
      if (user === undefined) say(owner, `${where} has no runAsUser (the kubelet cannot verify a user given by name)`);
      else if (user === 0) say(owner, `${where} runs as user 0`);
      if (own?.allowPrivilegeEscalation !== false) say(owner, `${where} does not set allowPrivilegeEscalation: false`);
      if (own?.readOnlyRootFilesystem !== true) say(owner, `${where} does not set readOnlyRootFilesystem: true`);
      if (!own?.capabilities?.drop?.includes('ALL')) say(owner, `${where} does not drop ALL capabilities`);
      if ((own?.capabilities?.add ?? []).length > 0) say(owner, `${where} adds capabilities ${own?.capabilities?.add?.join(', ')}`);
      if (own?.privileged) say(owner, `${where} is privileged`);
      const seccomp = (own?.seccompProfile ?? inherited?.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') say(owner, `${where} has no seccompProfile RuntimeDefault (or Localhost)`);
    }
  });
}

export function checkWritableTmp(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('writable-tmp', (say) => {
    for (const { owner, pod, container, where } of workloadContainers(objects)) {
      if (container.securityContext?.readOnlyRootFilesystem !== true) continue;
      const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
      const volume = tmp && pod.volumes?.find((candidate) => candidate.name === tmp.name);
      if (!volume?.emptyDir) say(owner, `${where} has a read-only root file system but no emptyDir at /tmp`);
    }
  });
}

export function checkImages(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('image', (say) => {
    for (const { owner, container, where } of workloadContainers(objects)) {
      const image = container.image;
      if (!image) {
        say(owner, `${where} has no image`);
        continue;
      }
      if (image.includes('@')) {
        if (!/@sha256:[a-f0-9]{64}$/.test(image)) say(owner, `${where} image ${image} has a malformed digest`);
        continue;
      }
      const lastSlash = image.lastIndexOf('/');
      const colon = image.lastIndexOf(':');
      const tag = colon > lastSlash ? image.slice(colon + 1) : undefined;
      if (!tag) say(owner, `${where} image ${image} has no tag (Kubernetes would pull latest): set it with the overlay's images:`);
      else if (tag === 'latest') say(owner, `${where} image ${image} uses the tag latest: pin a release`);
    }
  });
}

export function checkShutdown(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('shutdown', (say) => {
    for (const workload of workloads(objects)) {
      if (!workload.longRunning) continue;
      const pod = podSpecOf(workload);
      const grace = pod.terminationGracePeriodSeconds;
      if (grace === undefined || grace < MIN_TERMINATION_GRACE_SECONDS) {
        say(
          workload.owner,
          `terminationGracePeriodSeconds is ${grace ?? 'unset (30)'}; a consumer needs at least ${MIN_TERMINATION_GRACE_SECONDS} s to finish and commit`,
        );
      }
      for (const container of pod.containers ?? []) {
        const sleep = container.lifecycle?.preStop?.sleep?.seconds;
        if (sleep !== undefined && grace !== undefined && sleep >= grace)
          say(workload.owner, `container ${container.name} preStop sleeps ${sleep} s of a ${grace} s grace period`);
      }
    }
  });
}

/** ConfigMaps and keys a container's env takes, and the pod's ServiceAccount, are among the objects. */
export function checkConfigMapReferences(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('references', (say) => {
    for (const { owner, container, where } of workloadContainers(objects)) {
      const configMaps = configMapsOf(objects, owner);
      for (const source of container.envFrom ?? []) {
        const ref = source.configMapRef;
        if (ref && !ref.optional && !configMaps.has(ref.name ?? ''))
          say(owner, `${where} takes env from ConfigMap ${ref.name}, which is not among the manifests`);
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.configMapKeyRef;
        if (!ref || ref.optional) continue;
        const data = configMaps.get(ref.name ?? '');
        if (!data) say(owner, `${where} reads ${variable.name} from ConfigMap ${ref.name}, which is not among the manifests`);
        else if (!(ref.key in data)) say(owner, `${where} reads ${variable.name} from key ${ref.key}, which ConfigMap ${ref.name} lacks`);
      }
    }
    for (const workload of workloads(objects)) {
      const account = podSpecOf(workload).serviceAccountName;
      if (account && account !== 'default') {
        const exists = objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === account && sameNamespace(o, workload.owner));
        if (!exists) say(workload.owner, `serviceAccountName ${account} is not among the manifests`);
      }
    }
  });
}

/** Every volume a container mounts is declared by its pod, and every ConfigMap volume exists with the keys it maps. */
export function checkVolumeReferences(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('references', (say) => {
    for (const { owner, pod, container } of workloadContainers(objects)) {
      for (const mount of container.volumeMounts ?? []) {
        if (!pod.volumes?.some((volume) => volume.name === mount.name))
          say(owner, `container ${container.name} mounts volume ${mount.name}, which the pod does not declare`);
      }
    }
    for (const workload of workloads(objects)) {
      const { owner } = workload;
      for (const volume of podSpecOf(workload).volumes ?? []) {
        const ref = volume.configMap;
        if (!ref || ref.optional) continue;
        const data = dataOf(inNamespaceOf(objects, owner, 'ConfigMap').find((o) => o.metadata.name === ref.name));
        if (!data) say(owner, `volume ${volume.name} mounts ConfigMap ${ref.name}, which is not among the manifests`);
        else
          for (const item of ref.items ?? [])
            if (!(item.key in data)) say(owner, `volume ${volume.name} mounts key ${item.key}, which ConfigMap ${ref.name} lacks`);
      }
    }
  });
}
