import { describe, expect, it } from 'vitest';
import { digitsOnly, normalizePhone } from './input';

describe('normalizePhone', () => {
  it.each([
    ['+1 415 555 0123', '+14155550123'],
    ['+1 (415) 555-0123', '+14155550123'],
    ['+44.20.7946.0958', '+442079460958'],
    ['+14155550123', '+14155550123'],
  ])('normalizePhone(%j) = %j', (input, want) => {
    expect(normalizePhone(input)).toBe(want);
  });
});

describe('digitsOnly', () => {
  it.each([
    ['123 456', '123456'],
    ['123-456\n', '123456'],
    ['abc', ''],
  ])('digitsOnly(%j) = %j', (input, want) => {
    expect(digitsOnly(input)).toBe(want);
  });
});
