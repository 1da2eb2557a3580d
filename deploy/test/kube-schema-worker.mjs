// Validates Kubernetes objects against the API schemas bundled in kubernetes-models. The package
// is ES modules only, which Jest's CommonJS loader cannot import, so kube-schema.ts runs this
// file in a plain Node process.
//   stdin:  a JSON array of objects
//   stdout: a JSON array, one entry per object: { model: false } when kubernetes-models has no
//           class for its apiVersion and kind, else { model: true, errors: ["/spec/... message"] }
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const objects = JSON.parse(readFileSync(0, 'utf8'));

async function modelClass(apiVersion, kind) {
  if (!/^[A-Za-z0-9.-]+(\/[A-Za-z0-9]+)?$/.test(apiVersion ?? '') || !/^[A-Za-z0-9]+$/.test(kind ?? '')) return undefined;
  let url;
  try {
    // kubernetes-models lays its classes out as <apiVersion>/<Kind>.js, e.g. apps/v1/Deployment.js.
    url = import.meta.resolve(`kubernetes-models/${apiVersion}/${kind}`);
  } catch {
    return undefined;
  }
  if (!existsSync(fileURLToPath(url))) return undefined;
  const module = await import(url);
  return module[kind];
}

const results = [];
for (const object of objects) {
  const Model = await modelClass(object?.apiVersion, object?.kind);
  if (!Model) {
    results.push({ model: false });
    continue;
  }
  try {
    new Model(object).validate();
    results.push({ model: true, errors: [] });
  } catch (error) {
    const details = Array.isArray(error?.errors) ? error.errors.map((e) => `${e.instancePath || '/'} ${e.message}`) : [String(error?.message ?? error)];
    results.push({ model: true, errors: details });
  }
}
process.stdout.write(JSON.stringify(results));
