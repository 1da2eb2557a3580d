/** The rules the manifest tests apply to deploy/ (`@pay/deploy-checks`), and what they read to apply them. */
export { CONSUMED_TOPICS } from './consumed-topics';
export { effectiveEnv } from './container-env';
export { documentedDeployTimeConfigMaps, documentedReaders, documentedSecrets, readDeployDoc, secretReaders, secretReferences } from './docs-tables';
export type { Finding, KubeObject } from './kube-objects';
export { DEPLOY_TIME_CONFIG_MAPS, formatFinding, SERVICE_LABEL } from './kube-objects';
export { validateSchemas } from './kube-schema';
export type { RuleContext } from './manifest-rules';
export { checkManifests, checkWiring } from './manifest-rules';
export type { Endpoint, Port } from './network-model';
export { cidrContains, networkAllows, peerMatches, podsOf, routeOf } from './network-model';
export { PLATFORM_ROUTES } from './network-rules';
export type { WebFrontEnd } from './web-front-ends';
export { WEB_FRONT_ENDS } from './web-front-ends';
export { overlayNames, renderOverlay } from './render';
