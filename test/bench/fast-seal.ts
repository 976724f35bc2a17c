import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import sodium from 'libsodium-wrappers';

/*
 * A client-side sealer for the benchmark only. The bench needs ~100,000 distinct sealed orders
 * before the measured runs; libsodium-wrappers' crypto_box_seal costs ~330 µs here (two WASM
 * X25519 operations), which alone would eat half a minute of the 5-minute budget. This builds the
 * same libsodium sealed box (ephemeral X25519 key, nonce = BLAKE2b-24(epk ‖ pk), key =
 * HSalsa20(X25519(esk, pk)), XSalsa20-Poly1305) with Node's native X25519, a JS HSalsa20 and
 * libsodium's own secretbox and BLAKE2b. `checkFastSeal()` proves, on every run, that the result
 * opens with libsodium's crypto_box_seal_open, so the server sees exactly what a merchant sends.
 */

const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"
const ZERO16 = new Uint8Array(16);

const rotl = (v: number, c: number) => (v << c) | (v >>> (32 - c));
const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** HSalsa20(key, nonce16): the key derivation step of crypto_box_beforenm. */
function hsalsa20(key: Uint8Array, nonce: Uint8Array): Uint8Array {
  const x = new Uint32Array(16);
  x[0] = SIGMA[0]!;
  x[5] = SIGMA[1]!;
  x[10] = SIGMA[2]!;
  x[15] = SIGMA[3]!;
  for (let i = 0; i < 4; i++) {
    x[1 + i] = u32(key, 4 * i);
    x[11 + i] = u32(key, 16 + 4 * i);
    x[6 + i] = u32(nonce, 4 * i);
  }
  const qr = (a: number, b: number, c: number, d: number) => {
    x[b] = x[b]! ^ rotl((x[a]! + x[d]!) | 0, 7);
    x[c] = x[c]! ^ rotl((x[b]! + x[a]!) | 0, 9);
    x[d] = x[d]! ^ rotl((x[c]! + x[b]!) | 0, 13);
    x[a] = x[a]! ^ rotl((x[d]! + x[c]!) | 0, 18);
  };
  for (let i = 0; i < 20; i += 2) {
    qr(0, 4, 8, 12);
    qr(5, 9, 13, 1);
    qr(10, 14, 2, 6);
    qr(15, 3, 7, 11);
    qr(0, 1, 2, 3);
    qr(5, 6, 7, 4);
    qr(10, 11, 8, 9);
    qr(15, 12, 13, 14);
  }
  const out = new Uint8Array(32);
  const words = [x[0]!, x[5]!, x[10]!, x[15]!, x[6]!, x[7]!, x[8]!, x[9]!];
  words.forEach((w, i) => {
    out[4 * i] = w & 0xff;
    out[4 * i + 1] = (w >>> 8) & 0xff;
    out[4 * i + 2] = (w >>> 16) & 0xff;
    out[4 * i + 3] = (w >>> 24) & 0xff;
  });
  return out;
}

function rawPublicKey(key: KeyObject): Uint8Array {
  // The JWK export is ~40× cheaper than DER here.
  const { x } = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(x ?? '', 'base64url'));
}

/** A sealer bound to one recipient public key (base64). Call after `await sodium.ready`. */
export function createFastSealer(publicKeyB64: string) {
  const pk = new Uint8Array(Buffer.from(publicKeyB64, 'base64'));
  if (pk.length !== 32) throw new Error('fast-seal: the public key must be 32 bytes');
  const pkObject = createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, pk]), format: 'der', type: 'spki' });
  return {
    /** crypto_box_seal(plaintext, pk), base64 ORIGINAL. */
    seal(plaintext: string): string {
      const eph = generateKeyPairSync('x25519');
      const epk = rawPublicKey(eph.publicKey);
      const shared = new Uint8Array(diffieHellman({ privateKey: eph.privateKey, publicKey: pkObject }));
      const key = hsalsa20(shared, ZERO16);
      const both = new Uint8Array(64);
      both.set(epk, 0);
      both.set(pk, 32);
      const nonce = sodium.crypto_generichash(24, both, null);
      const boxed = sodium.crypto_secretbox_easy(sodium.from_string(plaintext), nonce, key);
      return Buffer.concat([epk, boxed]).toString('base64');
    },
  };
}

/** Throws unless a fast-sealed message opens with libsodium's own crypto_box_seal_open. */
export function checkFastSeal(publicKeyB64: string, secretKeyB64: string): void {
  const sealer = createFastSealer(publicKeyB64);
  const text = JSON.stringify({ check: 'fast-seal', n: Math.random() });
  const opened = sodium.crypto_box_seal_open(
    new Uint8Array(Buffer.from(sealer.seal(text), 'base64')),
    new Uint8Array(Buffer.from(publicKeyB64, 'base64')),
    new Uint8Array(Buffer.from(secretKeyB64, 'base64')),
  );
  if (sodium.to_string(opened) !== text) throw new Error('fast-seal: the sealed box did not round-trip through libsodium');
}
