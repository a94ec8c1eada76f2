import { describe, expect, it } from 'vitest';
import { formatClock, maskPhone } from './format';

describe('maskPhone', () => {
  // The server's input.MaskPhone (auth/input/phone_test.go), which says where
  // a code went: the same here, but for calling codes nobody has (the server
  // falls back to one digit; such a number never passed its checks anyway).
  it.each([
    ['+14155554567', '+1******4567'],
    ['+447400123456', '+44******3456'],
    ['+353861234567', '+353*****4567'],
    ['+79161234567', '+7******4567'],
    ['+4412345', '+44*2345'],
    ['+441234', '+******'],
    ['+12', '+**'],
    ['+', '+'],
    ['', ''],
    ['14155554567', '***********'],
    ['+1 415 555 4567', '+**************'],
    ['+1415555456７', '+***********'],
  ])('maskPhone(%j) = %j', (input, want) => {
    expect(maskPhone(input)).toBe(want);
  });
});

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
