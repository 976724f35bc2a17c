import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  addressRulesFor,
  addressVerdict,
  BlockedDestinationError,
  checkDestination,
  classifyAddress,
  guardedLookup,
  type Resolver,
} from './destination-guard.js';

const shop = { app_id: 'm1', domains: ['shop.kz'] };
const local = { app_id: 'm2', domains: ['shop.kz', 'localhost'] };

describe('classifyAddress', () => {
  it.each([
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['::', 'loopback'],
    ['0.1.2.3', 'loopback'],
    ['10.0.0.5', 'other'],
    ['169.25.4.1', 'other'],
    ['169.2.54.1', 'other'],
    ['1.169.254.1', 'other'],
    ['128.0.0.1', 'other'],
    ['12.7.0.1', 'other'],
    ['93.184.216.34', 'other'],
    ['fd00:ec2::253', 'other'],
    ['shop.kz', 'other'],
  ])('%s is %s', (ip, cls) => expect(classifyAddress(ip)).toBe(cls));
});

describe('addressVerdict and checkDestination', () => {
  it('link-local is refused even for a merchant allowed loopback, unless allow-listed', () => {
    const rules = addressRulesFor(local, []);
    expect(addressVerdict('169.254.169.254', 'meta.shop.kz', rules)).toMatch(
      /^meta\.shop\.kz resolves to 169\.254\.169\.254, which is a link-local/,
    );
    expect(
      addressVerdict('169.254.169.254', 'meta.shop.kz', addressRulesFor(local, ['meta.shop.kz'])),
    ).toBeUndefined();
    expect(
      addressVerdict('169.254.169.254', 'meta.shop.kz', addressRulesFor(local, ['169.254.169.254'])),
    ).toBeUndefined();
  });

  it('loopback only for merchants whose domains include localhost or 127.0.0.1', () => {
    expect(addressRulesFor(shop, []).loopbackAllowed).toBe(false);
    expect(addressRulesFor(local, []).loopbackAllowed).toBe(true);
    expect(addressRulesFor({ domains: ['127.0.0.1'] }, []).loopbackAllowed).toBe(true);
    expect(addressVerdict('127.0.0.1', 'cb.shop.kz', addressRulesFor(shop, []))).toMatch(/loopback/);
    expect(addressVerdict('127.0.0.1', 'cb.shop.kz', addressRulesFor(local, []))).toBeUndefined();
    expect(addressVerdict('10.1.2.3', 'cb.shop.kz', addressRulesFor(shop, []))).toBeUndefined();
    // The allow-list is for link-local/metadata only: it does not open loopback.
    expect(addressVerdict('127.0.0.1', 'cb.shop.kz', addressRulesFor(shop, ['cb.shop.kz']))).toMatch(
      /loopback/,
    );
  });

  it('checkDestination: scheme, domains (always), literal addresses', () => {
    const rules = addressRulesFor(shop, []);
    expect(checkDestination('https://pay.shop.kz:8443/cb', shop, rules)).toEqual({
      ok: true,
      host: 'pay.shop.kz',
    });
    expect(checkDestination('ftp://shop.kz/cb', shop, rules)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^ftp: URLs/),
    });
    expect(checkDestination('not a url', shop, rules)).toMatchObject({ ok: false });
    expect(checkDestination('http://evil.kz/cb', shop, rules)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not inside merchant m1's domains/),
    });
    const withIp = { app_id: 'm3', domains: ['169.254.169.254'] };
    expect(checkDestination('http://169.254.169.254/', withIp, addressRulesFor(withIp, []))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/link-local/),
    });
    expect(checkDestination('http://2852039166/', withIp, addressRulesFor(withIp, []))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/link-local/),
    });
  });
});

describe('guardedLookup', () => {
  const resolver =
    (table: Record<string, string[]>): Resolver =>
    async (h) =>
      (table[h] ?? []).map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  const lookup = (rules: ReturnType<typeof addressRulesFor>, table: Record<string, string[]>, all: boolean) =>
    new Promise<{ err: unknown; result: unknown }>((resolve) =>
      (
        guardedLookup(rules, resolver(table)) as unknown as (
          h: string,
          o: object,
          cb: (...a: unknown[]) => void,
        ) => void
      )('cb.shop.kz', { all }, (err, address, family) =>
        resolve({ err, result: all ? address : [address, family] }),
      ),
    );

  it('passes clean addresses through, in both call shapes', async () => {
    const rules = addressRulesFor(shop, []);
    expect(await lookup(rules, { 'cb.shop.kz': ['10.0.0.1', '10.0.0.2'] }, true)).toEqual({
      err: null,
      result: [
        { address: '10.0.0.1', family: 4 },
        { address: '10.0.0.2', family: 4 },
      ],
    });
    expect(await lookup(rules, { 'cb.shop.kz': ['10.0.0.1'] }, false)).toEqual({
      err: null,
      result: ['10.0.0.1', 4],
    });
  });

  it('refuses when any resolved address is blocked, and reports an empty answer as ENOTFOUND', async () => {
    const rules = addressRulesFor(shop, []);
    const blocked = await lookup(rules, { 'cb.shop.kz': ['10.0.0.1', 'fd00:ec2::254'] }, true);
    expect(blocked.err).toBeInstanceOf(BlockedDestinationError);
    expect((blocked.err as Error).message).toMatch(/cb\.shop\.kz resolves to fd00:ec2::254/);
    const missing = await lookup(rules, {}, false);
    expect((missing.err as { code: string }).code).toBe('ENOTFOUND');
  });
});
