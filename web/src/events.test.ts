import type { SecurityEvent } from '@twostep/client';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeEvent, eventDetail, eventTypes, groupActivity } from './events';

describe('describeEvent', () => {
  it('has words for every type the server records (auth/events.go)', () => {
    const source = readFileSync(new URL('../../auth/events.go', import.meta.url), 'utf8');
    const types = [...source.matchAll(/^\s*Event\w+\s*=\s*"([A-Z_]+)"/gm)].map((m) => m[1]);
    expect(types.length).toBeGreaterThanOrEqual(20);
    expect([...eventTypes].sort()).toEqual([...types].sort());
  });

  it.each([
    ['SIGN_IN_COMPLETED', 'Signed in'],
    ['CODE_SENT', 'Code sent'],
    ['LOGIN_FAILED', 'Wrong password entered to sign in'],
    ['RATE_LIMITED', 'Too many attempts: a limit was reached'],
    ['SOMETHING_NEWER', 'SOMETHING_NEWER'],
    ['toString', 'toString'],
  ])('describeEvent(%j) = %j', (type, want) => {
    expect(describeEvent(type)).toBe(want);
  });
});

describe('eventDetail', () => {
  it.each([
    ['a code: where it went', { type: 'CODE_SENT', detail: 'by sms to +1******0123 (login)' }, 'by sms to +1******0123 (login)'],
    ['a sign-in: only a session id', { type: 'SIGN_IN_COMPLETED', detail: 'session 0190a8' }, null],
    ['an unknown type: all there is', { type: 'SOMETHING_NEWER', detail: 'what it was' }, 'what it was'],
    ['no detail', { type: 'CODE_SENT', detail: null }, null],
  ])('%s', (_name, event, want) => {
    expect(eventDetail(event)).toBe(want);
  });
});

function ev(id: string, type: string, userAgent: string | null = 'ua', ipAddress: string | null = '127.0.0.1'): SecurityEvent {
  return { id, at: `2026-03-01T10:00:0${id}Z`, type, userId: 'u1', ipAddress, userAgent, detail: null };
}

describe('groupActivity', () => {
  it.each([
    { name: 'nothing', events: [], want: [] },
    { name: 'one of each', events: [ev('3', 'LOGOUT'), ev('2', 'SIGN_IN_COMPLETED')], want: [['3', 1, null], ['2', 1, null]] },
    {
      name: 'renewals in a row from one place fold into the newest',
      events: [ev('5', 'LOGOUT'), ev('4', 'SESSION_REFRESHED'), ev('3', 'SESSION_REFRESHED'), ev('2', 'SESSION_REFRESHED'), ev('1', 'SIGN_IN_COMPLETED')],
      want: [['5', 1, null], ['4', 3, '2026-03-01T10:00:02Z'], ['1', 1, null]],
    },
    {
      name: 'renewals from another device or address stay apart',
      events: [ev('3', 'SESSION_REFRESHED'), ev('2', 'SESSION_REFRESHED', 'other'), ev('1', 'SESSION_REFRESHED', 'other', '10.0.0.1')],
      want: [['3', 1, null], ['2', 1, null], ['1', 1, null]],
    },
    {
      name: 'only renewals fold',
      events: [ev('2', 'CODE_SENT'), ev('1', 'CODE_SENT')],
      want: [['2', 1, null], ['1', 1, null]],
    },
  ])('$name', ({ events, want }) => {
    expect(groupActivity(events).map((i) => [i.event.id, i.count, i.since])).toEqual(want);
  });
});
