// The CLI's secret store: secrets kept for this process only.
import { describe, expect, it } from 'vitest';
import { MemorySecretStore } from './secret-store.js';

describe('memory secret store', () => {
  it('keeps a secret for this process only, and says so', async () => {
    const secrets = new MemorySecretStore();
    expect(secrets.persistent).toBe(false);
    await secrets.set('gw-01', 'hunter2');
    expect(await secrets.get('gw-01')).toBe('hunter2');
    await secrets.delete('gw-01');
    expect(await secrets.get('gw-01')).toBeUndefined();
    expect(await new MemorySecretStore().get('gw-01')).toBeUndefined();
  });
});
