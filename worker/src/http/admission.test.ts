import { describe, expect, it } from 'vitest';
import { fairAdmission } from './app.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('fairAdmission', () => {
  it('starts queued requests in arrival order, one per event-loop turn, so new connections are accepted between them', async () => {
    const admit = fairAdmission();
    const started: number[] = [];
    for (const i of [1, 2, 3]) admit(() => started.push(i));
    expect(started).toEqual([]);
    await turn();
    expect(started).toEqual([1]);
    await turn();
    expect(started).toEqual([1, 2]);
    await turn();
    expect(started).toEqual([1, 2, 3]);
  });
});
