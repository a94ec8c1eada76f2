import { describe, expect, it } from 'vitest';
import { formatClock, maskPhone, withoutWait } from './format';

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
    [3600, '1:00:00'],
    [3227, '53:47'],
    [86_399, '23:59:59'],
  ])('formatClock(%j) = %j', (input, want) => {
    expect(formatClock(input)).toBe(want);
  });
});

describe('withoutWait', () => {
  // What the server writes for each limit (auth/reasons.go), and the odd ones.
  it.each([
    ['Too many failed attempts on this account. Try again in 3 minutes.', 'Too many failed attempts on this account.'],
    ['Too many requests from your network. Try again in 45 seconds.', 'Too many requests from your network.'],
    ['A code was just sent to this number. You can ask for another in 30 seconds.', 'A code was just sent to this number.'],
    ['We have sent too many codes to this number. Try again in 1 hour 5 minutes.', 'We have sent too many codes to this number.'],
    ['This account has asked for too many codes today. Try again in about 24 hours.', 'This account has asked for too many codes today.'],
    ['The server is busy. Try again in a moment.', 'The server is busy.'],
    ['Try again in 3 minutes.', ''],
    ['Too many attempts.', 'Too many attempts.'],
    ['Sign in again in another tab.', 'Sign in again in another tab.'],
  ])('withoutWait(%j) = %j', (input, want) => {
    expect(withoutWait(input)).toBe(want);
  });
});
