import { loadConfig } from '@pay/config';
import { SupportConfig } from './config';

describe("support's configuration: the agents' audience", () => {
  it("takes agents' tokens for pay-support by default, and refuses an agents' audience that is everyone's, naming the variable", () => {
    expect(loadConfig('support', SupportConfig, {}).AUTH_AGENT_AUDIENCE).toBe('pay-support');
    expect(loadConfig('support', SupportConfig, { AUTH_AGENT_AUDIENCE: 'pay-agents' }).AUTH_AGENT_AUDIENCE).toBe('pay-agents');
    expect(() => loadConfig('support', SupportConfig, { AUTH_AGENT_AUDIENCE: 'pay-api' })).toThrow(/AUTH_AGENT_AUDIENCE must differ from AUTH_AUDIENCE/);
    expect(() => loadConfig('support', SupportConfig, { AUTH_AUDIENCE: 'pay-support' })).toThrow(/AUTH_AGENT_AUDIENCE must differ from AUTH_AUDIENCE/);
    expect(() => loadConfig('support', SupportConfig, { AUTH_AGENT_AUDIENCE: 'two words' })).toThrow(/AUTH_AGENT_AUDIENCE/);
  });
});
