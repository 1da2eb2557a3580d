import { RolloutPolicy } from '@pay/rollout';
import { chatAvailability } from './chat-availability';

describe('chatAvailability', () => {
  const policy = new RolloutPolicy([{ country: 'US', apps: ['facebook', 'messenger'] }]);

  it('offers chat where the support rollout lists the country and app', () => {
    expect(chatAvailability(policy, 'US', 'messenger')).toEqual({ available: true });
    expect(chatAvailability(policy, 'us', 'facebook')).toEqual({ available: true });
  });

  it('tells a person elsewhere that chat is not available in their country yet, with its own code', () => {
    expect(chatAvailability(policy, 'DE', 'facebook')).toEqual({
      available: false,
      code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_COUNTRY',
      message: 'chat support is not available in your country (DE) yet',
    });
    expect(chatAvailability(policy, 'US', 'whatsapp')).toMatchObject({ available: false, code: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_APP' });
  });
});
