/**
 * NetworkPolicies, Services and Ingress paths evaluated as the cluster would: whether a pod may
 * open a connection to another pod or an address, which pods a Service port reaches, where the
 * Ingress sends a request. The rules of network-rules.ts and the route tests are built on these.
 */
import type { IIngressSpec } from 'kubernetes-models/networking.k8s.io/v1/IngressSpec';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import type { INetworkPolicySpec } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicySpec';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import type { IServiceSpec } from 'kubernetes-models/v1/ServiceSpec';
import type { KubeObject, PodSpec } from './kube-objects';
import { inNamespaceOf, selectorMatches } from './kube-objects';

/** A pod (namespace and labels, and its named ports) or an address outside the cluster. */
export interface Endpoint {
  namespace?: string;
  labels?: Readonly<Record<string, string>>;
  ports?: readonly IContainerPort[];
  ip?: string;
}

export interface Port {
  number: number;
  name?: string;
  protocol: string;
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
}

/** Whether an IPv4 CIDR holds the address (an IPv6 CIDR holds no IPv4 address). */
export function cidrContains(cidr: string, address: string): boolean {
  const [base, bits] = cidr.split('/');
  const network = ipv4(base);
  const ip = ipv4(address);
  if (network === undefined || ip === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(network / size) === Math.floor(ip / size);
}

/** Whether a peer of a NetworkPolicy rule (in policyNamespace) matches the endpoint. */
export function peerMatches(peer: INetworkPolicyPeer, policyNamespace: string, target: Endpoint): boolean {
  if (peer.ipBlock)
    return target.ip !== undefined && cidrContains(peer.ipBlock.cidr, target.ip) && !(peer.ipBlock.except ?? []).some((cidr) => cidrContains(cidr, target.ip!));
  if (target.ip !== undefined) return false;
  const namespaceLabels = { 'kubernetes.io/metadata.name': target.namespace ?? '' };
  const namespaceOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, namespaceLabels) : target.namespace === policyNamespace;
  return namespaceOk && (!peer.podSelector || selectorMatches(peer.podSelector, target.labels));
}

function portMatches(ports: readonly INetworkPolicyPort[] | undefined, port: Port): boolean {
  if (!ports?.length) return true;
  return ports.some((candidate) => {
    if ((candidate.protocol ?? 'TCP') !== port.protocol) return false;
    if (candidate.port === undefined) return true;
    if (typeof candidate.port === 'string') return candidate.port === port.name;
    return candidate.endPort === undefined ? candidate.port === port.number : port.number >= candidate.port && port.number <= candidate.endPort;
  });
}

/** Whether the NetworkPolicies among the objects let `from` open a connection to `to` on the port. */
export function networkAllows(objects: readonly KubeObject[], from: Endpoint, to: Endpoint, port: Port): boolean {
  const side = (pod: Endpoint, peer: Endpoint, direction: 'Ingress' | 'Egress'): boolean => {
    if (pod.ip !== undefined) return true;
    const policies = objects.filter((o) => {
      const spec = o.spec as INetworkPolicySpec | undefined;
      const types = spec?.policyTypes ?? (spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
      return (
        o.kind === 'NetworkPolicy' && o.metadata.namespace === pod.namespace && selectorMatches(spec?.podSelector, pod.labels) && types.includes(direction)
      );
    });
    if (policies.length === 0) return true;
    return policies.some((policy) => {
      const spec = policy.spec as INetworkPolicySpec;
      const rules =
        direction === 'Ingress'
          ? (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
          : (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
      return rules.some((rule) => (!rule.peers?.length || rule.peers.some((p) => peerMatches(p, pod.namespace ?? '', peer))) && portMatches(rule.ports, port));
    });
  };
  return side(from, to, 'Egress') && side(to, from, 'Ingress');
}

/** The pods of a workload, as an endpoint. */
export function podsOf(workload: KubeObject): Endpoint {
  const template = (workload.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } }).template;
  return {
    namespace: workload.metadata.namespace,
    labels: template?.metadata?.labels ?? {},
    ports: template?.spec?.containers.flatMap((c) => c.ports ?? []) ?? [],
  };
}

/** The Deployments behind a Service's port, with the container port it reaches on each; or what is wrong. */
export function backendsOf(
  objects: readonly KubeObject[],
  service: KubeObject,
  servicePort: string | number | undefined,
): Array<{ deployment: KubeObject; pods: Endpoint; port: Port }> | string {
  const spec = service.spec as IServiceSpec;
  const port = spec.ports?.find((p) => (typeof servicePort === 'string' ? p.name === servicePort : p.port === servicePort));
  if (!port) return `Service ${service.metadata.name} has no port ${servicePort}`;
  const selected = inNamespaceOf(objects, service, 'Deployment').filter(
    (d) => spec.selector && selectorMatches({ matchLabels: spec.selector }, podsOf(d).labels),
  );
  if (selected.length === 0) return `Service ${service.metadata.name} selects no Deployment's pods`;
  const backends = [];
  for (const deployment of selected) {
    const pods = podsOf(deployment);
    const target = port.targetPort ?? port.port;
    const containerPort = pods.ports?.find((p) => (typeof target === 'string' ? p.name === target : p.containerPort === target));
    if (!containerPort)
      return `Service ${service.metadata.name} port ${servicePort} targets ${target}, which the pods of Deployment ${deployment.metadata.name} do not declare`;
    backends.push({ deployment, pods, port: { number: containerPort.containerPort, name: containerPort.name, protocol: containerPort.protocol ?? 'TCP' } });
  }
  return backends;
}

export interface Route {
  ingress: KubeObject;
  service: string;
  port: string | number | undefined;
}

/** Where a request for host and path goes: the longest matching path, Exact before Prefix (as the Ingress API says). */
export function routeOf(objects: readonly KubeObject[], host: string, path: string): Route | undefined {
  const matches: Array<Route & { length: number; exact: boolean }> = [];
  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of (ingress.spec as IIngressSpec).rules ?? []) {
      if (rule.host !== undefined && rule.host !== host) continue;
      for (const candidate of rule.http?.paths ?? []) {
        const prefix = (candidate.path ?? '/').replace(/(.)\/$/, '$1');
        const exact = candidate.pathType === 'Exact';
        const hit = exact ? path === candidate.path : prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
        const backend = candidate.backend.service;
        if (hit)
          matches.push({ ingress, service: backend?.name ?? '<no Service>', port: backend?.port?.name ?? backend?.port?.number, length: prefix.length, exact });
      }
    }
  }
  return matches.sort((a, b) => b.length - a.length || Number(b.exact) - Number(a.exact))[0];
}
