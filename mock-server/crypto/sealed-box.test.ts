import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSealedBoxOpener,
  cryptoReady,
  decodeOriginalBase64,
  generateKeypair,
  isOriginalBase64,
  keypairFromSeed,
  publicKeyOf,
  sealToBase64,
} from './sealed-box.js';

/** The grammar of ORIGINAL base64 written as a regex: the specification the fast check must match. */
const GRAMMAR = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const spec = (s: string) => s.length > 0 && GRAMMAR.test(s);

describe('isOriginalBase64', () => {
  it.each([
    ['QQ==', true],
    ['QUI=', true],
    ['QUJD', true],
    ['', false],
    ['QQ', false],
    ['QQ=', false],
    ['Q===', false],
    ['=QQ=', false],
    ['QQ=A', false],
    ['Q-_A', false],
    ['QU JD', false],
    ['QUJDé===', false],
    ['QUJD\n', false],
  ])('%j is %s', (text, ok) => expect(isOriginalBase64(text)).toBe(ok));

  it('agrees with the grammar on arbitrary strings over the alphabet, padding and junk', () => {
    const chars = fc.constantFrom(...'AZaz09+/=-_ \n\u00e9'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (cs) => {
        const s = cs.join('');
        expect(isOriginalBase64(s)).toBe(spec(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the grammar on real base64 of random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const s = Buffer.from(bytes).toString('base64');
        expect(isOriginalBase64(s)).toBe(spec(s));
        if (s) expect(Buffer.from(decodeOriginalBase64(s)!)).toEqual(Buffer.from(bytes));
      }),
    );
  });
});

describe('createSealedBoxOpener', () => {
  it('opens with sodium-native when it is installed (auto) and with libsodium-wrappers when told (wasm)', async () => {
    const auto = createSealedBoxOpener('auto');
    const wasm = createSealedBoxOpener('wasm');
    // sodium-native is an optional dependency that this repository's lockfile installs.
    expect(auto.backend).toBe('sodium-native');
    expect(wasm.backend).toBe('libsodium-wrappers');
  });

  it('both backends open the same boxes and refuse the same wrong ones', async () => {
    await cryptoReady();
    const right = generateKeypair();
    const wrong = generateKeypair();
    const openers = [createSealedBoxOpener('auto'), createSealedBoxOpener('wasm')];
    for (const o of openers) await o.ready();
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const cipher = decodeOriginalBase64(sealToBase64(text, right.publicKey))!;
        for (const o of openers) {
          expect(Buffer.from(o.open(cipher, right)!).toString('utf8'), o.backend).toBe(text);
          expect(o.open(cipher, wrong), o.backend).toBeUndefined();
          expect(o.open(cipher.subarray(0, 47), right), o.backend).toBeUndefined();
          const tampered = Uint8Array.from(cipher);
          tampered[tampered.length - 1]! ^= 1;
          expect(o.open(tampered, right), o.backend).toBeUndefined();
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('keys with node:crypto', () => {
  it('generateKeypair and publicKeyOf agree with libsodium (crypto_box_seed_keypair, crypto_scalarmult_base)', async () => {
    await cryptoReady();
    const fresh = generateKeypair();
    expect(publicKeyOf(fresh.secretKey)).toBe(fresh.publicKey);
    for (let i = 0; i < 50; i++) {
      const seeded = keypairFromSeed(Uint8Array.from({ length: 32 }, (_, k) => (k * 7 + i) & 255));
      expect(publicKeyOf(seeded.secretKey)).toBe(seeded.publicKey);
    }
    // A box sealed to a generated public key opens with its secret key.
    const opener = createSealedBoxOpener('wasm');
    await opener.ready();
    const cipher = decodeOriginalBase64(sealToBase64('hello', fresh.publicKey))!;
    expect(Buffer.from(opener.open(cipher, fresh)!).toString()).toBe('hello');
    expect(() => publicKeyOf('short')).toThrow(/32 bytes/);
  });
});
