import { describe, expect, it } from 'vitest';
import { formatClock } from './format';

describe('formatClock', () => {
  it.each([
    [0, '0:00'],
    [9, '0:09'],
    [90, '1:30'],
    [3599, '59:59'],
  ])('formatClock(%j) = %j', (input, want) => {
    expect(formatClock(input)).toBe(want);
  });
});
