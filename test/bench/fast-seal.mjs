// @ts-check
import { Buffer } from 'node:buffer';
import sodium from 'libsodium-wrappers';

/*
 * The bench's client-side sealer: libsodium-wrappers' own crypto_box_seal, bound to one app_key,
 * so the server sees exactly what a merchant sends. The bench seals its whole order pool before any
 * measured run, spread over worker threads (sealed-pool.ts), since one seal costs ~330 µs here.
 *
 * A faster path (Node's native X25519 for the ephemeral key, exported as JWK) was tried and
 * dropped: on Node 20.20 it deadlocks intermittently. `KeyObject.export({ format: 'jwk' })` holds
 * the key's mutex while it allocates; a GC at that moment runs the destructor of the
 * generateKeyPairSync job that made the key, which waits for the same mutex (gdb: ExportJWKEdKey →
 * … → Heap::CollectGarbage → ~KeyGenJob → uv_mutex_lock), and the thread sleeps forever.
 *
 * Plain JavaScript (types in fast-seal.d.mts): the seal workers load it without any TypeScript
 * loader, so nothing but Node itself runs in those threads.
 */

/**
 * A sealer bound to one recipient public key (base64). Call after `await sodium.ready`.
 * @param {string} publicKeyB64
 */
export function createFastSealer(publicKeyB64) {
  const pk = new Uint8Array(Buffer.from(publicKeyB64, 'base64'));
  if (pk.length !== 32) throw new Error('fast-seal: the public key must be 32 bytes');
  return {
    /**
     * crypto_box_seal(plaintext, pk), base64 ORIGINAL.
     * @param {string} plaintext
     */
    seal(plaintext) {
      return Buffer.from(sodium.crypto_box_seal(plaintext, pk)).toString('base64');
    },
  };
}

/**
 * Throws unless a sealed message opens with crypto_box_seal_open and the matching secret key.
 * @param {string} publicKeyB64
 * @param {string} secretKeyB64
 */
export function checkFastSeal(publicKeyB64, secretKeyB64) {
  const sealer = createFastSealer(publicKeyB64);
  const text = JSON.stringify({ check: 'fast-seal', n: Math.random() });
  const opened = sodium.crypto_box_seal_open(
    new Uint8Array(Buffer.from(sealer.seal(text), 'base64')),
    new Uint8Array(Buffer.from(publicKeyB64, 'base64')),
    new Uint8Array(Buffer.from(secretKeyB64, 'base64')),
  );
  if (sodium.to_string(opened) !== text)
    throw new Error('fast-seal: the sealed box did not round-trip through libsodium');
}
