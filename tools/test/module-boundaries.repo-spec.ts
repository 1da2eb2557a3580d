/**
 * The architecture rules are enforced by lint; this proves the rules bite: an app importing
 * another app (or another app's public entry), framework code in the ledger domain, a shared
 * library reaching into a service's scope, a tool reaching into an app's src/, and the PSP
 * simulator in production code are all errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const bin = (name: string): string => resolve(ROOT, 'node_modules/.bin', name);

const PROBES = {
  appImportsApp: [
    'apps/history-projection/src/boundary-probe.ts',
    "import { walletService } from '../../wallet/src/wallet.service';\nexport const probe = walletService;\n",
  ],
  domainImportsFramework: ['libs/ledger/domain/src/boundary-probe.ts', "import { DataSource } from 'typeorm';\nexport const probe = DataSource;\n"],
  sharedImportsServiceScope: ['libs/messaging/src/boundary-probe.ts', "import * as ledger from '@pay/ledger-domain';\nexport const probe = ledger;\n"],
  toolReachesIntoApp: ['tools/boundary-probe.ts', "import { walletService } from '../apps/wallet/src/wallet.service';\nexport const probe = walletService;\n"],
  appImportsToolsEntry: [
    'apps/wallet/src/boundary-probe.ts',
    "import { historyProjectionService } from '@pay/history-projection/tools';\nexport const probe = historyProjectionService;\n",
  ],
  serviceImportsSimulator: [
    'apps/payment-orchestration/src/boundary-probe.ts',
    "import { startPspSimulator } from '@pay/psp-simulator';\nexport const probe = startPspSimulator;\n",
  ],
  toolImportsSimulator: [
    'tools/payments/boundary-probe.ts',
    "import { startPspSimulator } from '@pay/psp-simulator';\nexport const probe = startPspSimulator;\n",
  ],
  serviceImportsTesting: ['apps/wallet/src/boundary-probe-testing.ts', "import { uniqueName } from '@pay/testing';\nexport const probe = uniqueName;\n"],
  appTestKitImportsTesting: ['apps/wallet/test/boundary-probe.ts', "import { uniqueName } from '@pay/testing';\nexport const probe = uniqueName;\n"],
} as const;

interface EslintResult {
  filePath: string;
  messages: { ruleId: string | null; message: string }[];
}

describe('module boundaries', () => {
  let results: Map<string, string>;

  beforeAll(() => {
    // The rule reads Nx's project graph; without it the rule silently skips.
    execFileSync(bin('nx'), ['show', 'projects'], { cwd: ROOT, stdio: 'ignore' });
    for (const [path, code] of Object.values(PROBES)) {
      mkdirSync(dirname(resolve(ROOT, path)), { recursive: true });
      writeFileSync(resolve(ROOT, path), code);
    }
    try {
      const run = spawnSync(bin('eslint'), ['--format', 'json', ...Object.values(PROBES).map(([path]) => path)], { cwd: ROOT, encoding: 'utf8' });
      const parsed = JSON.parse(run.stdout) as EslintResult[];
      results = new Map(
        parsed.map((r) => [
          r.filePath,
          r.messages
            .filter((m) => m.ruleId === '@nx/enforce-module-boundaries')
            .map((m) => m.message)
            .join('\n'),
        ]),
      );
    } finally {
      for (const [path] of Object.values(PROBES)) rmSync(resolve(ROOT, path), { force: true });
    }
  }, 120_000);

  const messagesFor = (probe: keyof typeof PROBES): string => results.get(resolve(ROOT, PROBES[probe][0])) ?? '';

  it('refuses an app importing another app', () => {
    expect(messagesFor('appImportsApp')).toMatch(/Projects cannot be imported by a relative or absolute path/);
  });

  it('refuses framework code in the ledger domain', () => {
    expect(messagesFor('domainImportsFramework')).toMatch(/type:domain" is not allowed to import "typeorm"/);
  });

  it('refuses a shared library reaching into a service scope', () => {
    expect(messagesFor('sharedImportsServiceScope')).toMatch(/tagged with "scope:shared" can only depend on libs tagged with "scope:shared"/);
  });

  it("refuses a tool reaching into an app's src/ (tools use the app's public entry)", () => {
    expect(messagesFor('toolReachesIntoApp')).toMatch(/Projects cannot be imported by a relative or absolute path/);
  });

  it("refuses an app importing another app's public entry (that entry is for tools and tests)", () => {
    expect(messagesFor('appImportsToolsEntry')).toMatch(/Imports of apps are forbidden/);
  });

  it("refuses the testing library in a service's code, and allows it in the service's test kits (apps/<app>/test/)", () => {
    expect(messagesFor('serviceImportsTesting')).toMatch(/tagged with "type:app" can only depend on libs tagged with/);
    expect(results.has(resolve(ROOT, PROBES.appTestKitImportsTesting[0]))).toBe(true);
    expect(messagesFor('appTestKitImportsTesting')).toBe('');
  });

  it('refuses the PSP simulator in a service and in a production tool (it is test support)', () => {
    expect(messagesFor('serviceImportsSimulator')).toMatch(/tagged with "type:app" can only depend on libs tagged with/);
    expect(messagesFor('toolImportsSimulator')).toMatch(/tagged with "type:tool" can only depend on libs tagged with/);
  });
});
