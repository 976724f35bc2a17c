import { describe, expect, it } from 'vitest';
import { checkUpstream, isProductionHost } from './host-policy.js';

const none = { allowHosts: [], allowProduction: false };

describe('checkUpstream', () => {
  it('allows the public test environment and this machine by default', () => {
    for (const url of [
      'https://card.test.nplus.tech',
      'https://fintech.test.nplus.tech/api/v1/merchant-widget',
      'http://localhost:8077',
      'http://127.0.0.1:9',
      'http://[::1]:8077',
    ])
      expect(checkUpstream(url, none), url).toMatchObject({ ok: true });
  });

  it('refuses production hosts unless --allow-production is given, even when --allow-host names them', () => {
    for (const url of [
      'https://ktpay.kz',
      'https://api.ktpay.kz',
      'https://card.nplus.tech',
      'https://fintech.nplus.tech',
    ]) {
      const v = checkUpstream(url, { allowHosts: [new URL(url).hostname], allowProduction: false });
      expect(v.ok, url).toBe(false);
      expect(!v.ok && v.reason).toContain('--allow-production');
      expect(checkUpstream(url, { allowHosts: [], allowProduction: true }), url).toMatchObject({ ok: true });
    }
  });

  it('refuses any other host unless --allow-host names it (exactly, or as *.domain)', () => {
    const v = checkUpstream('https://gw.example.kz', none);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toContain('--allow-host gw.example.kz');
    expect(checkUpstream('https://gw.example.kz', { ...none, allowHosts: ['gw.example.kz'] }).ok).toBe(true);
    expect(checkUpstream('https://gw.example.kz', { ...none, allowHosts: ['*.example.kz'] }).ok).toBe(true);
    expect(checkUpstream('https://example.kz', { ...none, allowHosts: ['*.example.kz'] }).ok).toBe(false);
    expect(checkUpstream('https://evilexample.kz', { ...none, allowHosts: ['*.example.kz'] }).ok).toBe(false);
    // A look-alike of the test suffix is not the test environment.
    expect(checkUpstream('https://card.test.nplus.tech.evil.kz', none).ok).toBe(false);
  });

  it('refuses what is not an http(s) URL, and credentials inside the URL', () => {
    expect(checkUpstream('card.test.nplus.tech', none).ok).toBe(false);
    expect(checkUpstream('ftp://card.test.nplus.tech', none).ok).toBe(false);
    expect(checkUpstream('https://id:key@card.test.nplus.tech', none).ok).toBe(false);
  });

  it('isProductionHost separates test.nplus.tech from the rest of nplus.tech', () => {
    expect(isProductionHost('KTPAY.KZ.')).toBe(true);
    expect(isProductionHost('widget.test.nplus.tech')).toBe(false);
    expect(isProductionHost('test.nplus.tech')).toBe(false);
    expect(isProductionHost('widget.nplus.tech')).toBe(true);
    expect(isProductionHost('localhost')).toBe(false);
  });
});
