/**
 * Rules for who may reach whom: the Ingresses and the paths between services, evaluated with
 * network-model.ts as the cluster would (that every Deployment has a NetworkPolicy and its
 * namespace a default-deny one is the companions rule, companion-rules.ts):
 *
 * - ingress        an Ingress has a class, a host, TLS for it with a Secret, no defaultBackend,
 *                  routes to a Service port that reaches a container port, exposes none of
 *                  PLATFORM_ROUTES (health, metrics, docs, keys), and the NetworkPolicies let the
 *                  controller (INGRESS_CONTROLLER) in; a Deployment that lets the controller in
 *                  has a route
 * - network        a server that calls another Service of the namespace (an http URL in its
 *                  environment) may reach its pods, and they admit it, on that port
 */
import type { IIngressSpec } from 'kubernetes-models/networking.k8s.io/v1/IngressSpec';
import { resolveEnv } from './container-env';
import type { DocumentedSecrets } from './docs-tables';
import type { Finding, KubeObject, PodSpec } from './kube-objects';
import { findingsOf, inNamespaceOf } from './kube-objects';
import type { Endpoint } from './network-model';
import { backendsOf, networkAllows, podsOf, routeOf } from './network-model';

/** Where the ingress controller runs (docs/deploy.md, "What the cluster must provide"). */
export const INGRESS_CONTROLLER: Endpoint = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };

/** Routes every service has that must never be public: probes, metrics, the OpenAPI page, the step-up keys. */
export const PLATFORM_ROUTES = ['/health/live', '/health/ready', '/metrics', '/docs', '/docs/json', '/.well-known/step-up-jwks.json'];

export function checkIngresses(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('ingress', (say) => {
    const routed = new Set<KubeObject>();
    for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
      const spec = (ingress.spec ?? {}) as IIngressSpec;
      const report = (message: string): void => say(ingress, message);
      if (!spec.ingressClassName) report('has no ingressClassName: which controller serves it would be up to the cluster default');
      if (spec.defaultBackend) report('has a defaultBackend: every path not listed would reach it, /metrics and /health included');
      for (const rule of spec.rules ?? []) {
        if (!rule.host) {
          report('has a rule without a host: it would answer for any name pointed at the controller');
          continue;
        }
        if (!spec.tls?.some((tls) => tls.secretName && tls.hosts?.includes(rule.host!)))
          report(`serves ${rule.host} without TLS (spec.tls with a secretName for that host)`);
        for (const path of rule.http?.paths ?? []) {
          const backend = path.backend.service;
          const service = backend && inNamespaceOf(objects, ingress, 'Service').find((s) => s.metadata.name === backend.name);
          if (!backend || !service) {
            report(`routes ${path.path} to ${backend ? `Service ${backend.name}, which is not among the manifests` : 'no Service'}`);
            continue;
          }
          const backends = backendsOf(objects, service, backend.port?.name ?? backend.port?.number);
          if (typeof backends === 'string') {
            report(`routes ${path.path}, but ${backends}`);
            continue;
          }
          for (const { deployment, pods, port } of backends) {
            routed.add(deployment);
            if (!networkAllows(objects, INGRESS_CONTROLLER, pods, port)) {
              report(
                `routes ${path.path} to Deployment ${deployment.metadata.name}, whose NetworkPolicies do not let the ingress controller (namespace ${INGRESS_CONTROLLER.namespace}) reach port ${port.name ?? port.number}`,
              );
            }
          }
        }
        for (const internal of PLATFORM_ROUTES) {
          if (routeOf([ingress], rule.host, internal)) report(`exposes ${internal} on ${rule.host}: list the public paths only`);
        }
      }
    }
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const pods = podsOf(deployment);
      const admits = (pods.ports ?? []).some((p) =>
        networkAllows(objects, INGRESS_CONTROLLER, pods, { number: p.containerPort, name: p.name, protocol: p.protocol ?? 'TCP' }),
      );
      if (admits && !routed.has(deployment))
        say(deployment, 'its NetworkPolicy lets the ingress controller in, but no Ingress routes to it: remove that rule or add the route');
    }
  });
}

/** In-cluster http(s) URLs in a server's environment must be reachable through the NetworkPolicies. */
export function checkNetworkPaths(objects: readonly KubeObject[], secrets: DocumentedSecrets): Finding[] {
  return findingsOf('network', (say) => {
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const container = (deployment.spec as { template: { spec: PodSpec } }).template.spec.containers[0];
      const { env, fromSecrets } = resolveEnv(container, deployment, objects, secrets);
      const namespace = deployment.metadata.namespace ?? '';
      for (const [variable, value] of Object.entries(env)) {
        if (fromSecrets.has(variable) || !/^https?:\/\//.test(value)) continue;
        const url = new URL(value);
        const service = inNamespaceOf(objects, deployment, 'Service').find((s) =>
          [
            s.metadata.name,
            `${s.metadata.name}.${namespace}`,
            `${s.metadata.name}.${namespace}.svc`,
            `${s.metadata.name}.${namespace}.svc.cluster.local`,
          ].includes(url.hostname),
        );
        if (!service) {
          if (!url.hostname.includes('.') && url.hostname !== 'localhost')
            say(deployment, `${variable} names host ${url.hostname}, which is no Service in namespace ${namespace}`);
          continue;
        }
        const backends = backendsOf(objects, service, Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
        if (typeof backends === 'string') {
          say(deployment, `${variable}=${value}, but ${backends}`);
          continue;
        }
        for (const { deployment: callee, pods, port } of backends) {
          if (!networkAllows(objects, podsOf(deployment), pods, port)) {
            say(
              deployment,
              `${variable} calls Service ${service.metadata.name}, but the NetworkPolicies do not let these pods reach Deployment ${callee.metadata.name}'s port ${port.name ?? port.number} (egress here, ingress there)`,
            );
          }
        }
      }
    }
  });
}
