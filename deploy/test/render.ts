/**
 * Renders the kustomize overlays of deploy/k8s with `kubectl kustomize`, the same renderer
 * `kubectl apply -k` uses, and parses the output into objects.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kube-objects';

export const K8S_DIR = resolve(__dirname, '../k8s');
export const OVERLAYS_DIR = join(K8S_DIR, 'overlays');

/** The overlays in deploy/k8s/overlays, by directory name. */
export function overlayNames(): string[] {
  return readdirSync(OVERLAYS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** `KUBECTL` names another binary; otherwise `kubectl` from the PATH. */
function kubectl(): string {
  return process.env.KUBECTL?.trim() || 'kubectl';
}

export function renderOverlay(overlay: string): KubeObject[] {
  const directory = join(OVERLAYS_DIR, overlay);
  let output: string;
  try {
    output = execFileSync(kubectl(), ['kustomize', directory], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(
        `${kubectl()} was not found: the Kubernetes manifest checks render deploy/k8s with \`kubectl kustomize\`. ` +
          'Install kubectl (v1.27 or later, which has kustomize v5 built in) or set KUBECTL to its path.',
        { cause: error },
      );
    }
    throw new Error(`kubectl kustomize ${directory} failed: ${failure.stderr?.trim() || failure.message}`, { cause: error });
  }
  return parseAllDocuments(output).flatMap((document, index) => {
    if (document.errors.length > 0) throw new Error(`${overlay}: rendered document ${index} is not valid YAML: ${document.errors[0]?.message}`);
    const object = document.toJS() as KubeObject | null;
    return object ? [object] : [];
  });
}
