import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type Sodium from 'libsodium-wrappers';
import {
  createCryptoWorkerPool,
  workerLibrary,
  type CryptoWorkerPool,
  type OpenedBox,
} from './crypto-workers.js';

export type { OpenedBox } from './crypto-workers.js';

/** A libsodium box keypair, both halves as ORIGINAL-variant base64. */
export interface BoxKeypair {
  publicKey: string;
  secretKey: string;
}

// libsodium-wrappers, once cryptoReady() has loaded it. It is imported on demand, not at startup:
// parsing it and initialising its WASM took ~60 ms of the sandbox's start (issue 10), and a
// sandbox with sodium-native installed never needs it to open bodies.
let sodium: typeof Sodium;
let ready: Promise<void> | undefined;

/**
 * Loads libsodium-wrappers and initialises its WASM, once. Every function here that uses libsodium
 * (seal, open with the WASM, seeded keypairs) needs this to have resolved first.
 */
export function cryptoReady(): Promise<void> {
  ready ??= import('libsodium-wrappers').then(async (mod) => {
    const s = (mod as { default?: typeof Sodium }).default ?? (mod as unknown as typeof Sodium);
    await s.ready;
    sodium = s;
  });
  return ready;
}

const B64 = () => sodium.base64_variants.ORIGINAL;
/** 1 for the 64 characters of the standard base64 alphabet, by char code. */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  ALPHABET[c.charCodeAt(0)] = 1;

/**
 * True when `text` is ORIGINAL-variant base64 (standard alphabet, `=` padding) and not empty: a
 * length that is a multiple of 4, alphabet characters only, and at most two `=` at the very end.
 * One pass over the char codes; the equivalent anchored regex cost ~4 µs per create (issue 10).
 */
export function isOriginalBase64(text: string): boolean {
  const n = text.length;
  if (n === 0 || n % 4 !== 0) return false;
  let end = n;
  if (text.charCodeAt(n - 1) === 61) end = text.charCodeAt(n - 2) === 61 ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || ALPHABET[c] !== 1) return false;
  }
  return true;
}

/**
 * Decodes ORIGINAL base64, or returns undefined for anything else (URL-safe, unpadded, junk). The
 * bytes are a Buffer (a Uint8Array), possibly a view into Node's shared pool: not copied again,
 * one malloc a request less.
 */
export function decodeOriginalBase64(text: string): Uint8Array | undefined {
  if (!isOriginalBase64(text)) return undefined;
  return Buffer.from(text, 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

// An X25519 private key in PKCS#8 DER is this prefix and the 32 raw bytes; a public key in SPKI DER
// ends with its 32 raw bytes. libsodium's crypto_box keys are exactly these X25519 keys.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * Makes a fresh box keypair (node:crypto's X25519, the same keys as libsodium's crypto_box_keypair;
 * no cryptoReady() needed).
 *
 * @example
 * const { publicKey, secretKey } = generateKeypair();
 */
export function generateKeypair(): BoxKeypair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64'),
    secretKey: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('base64'),
  };
}

/** A keypair derived from a 32-byte seed: the well-known test keys are reproducible this way. */
export function keypairFromSeed(seed: Uint8Array): BoxKeypair {
  const kp = sodium.crypto_box_seed_keypair(seed);
  return {
    publicKey: sodium.to_base64(kp.publicKey, B64()),
    secretKey: sodium.to_base64(kp.privateKey, B64()),
  };
}

/**
 * Seals `plaintext` to `publicKeyB64` exactly as a ktpay merchant does, returning the request body.
 *
 * @example
 * const body = sealToBase64(JSON.stringify(order), appKey);
 */
export function sealToBase64(plaintext: string | Uint8Array, publicKeyB64: string): string {
  const pk = sodium.from_base64(publicKeyB64, B64());
  return sodium.to_base64(sodium.crypto_box_seal(plaintext, pk), B64());
}

/** Opens a sealed box; undefined when it was not sealed to this keypair. */
export function openSealed(cipher: Uint8Array, keypair: BoxKeypair): Uint8Array | undefined {
  if (cipher.length < sodium.crypto_box_SEALBYTES) return undefined;
  try {
    // Node's base64 decoder, not libsodium's: two fewer WASM calls per request (issue 10). Stored
    // keys are ORIGINAL base64 of 32 bytes (checked when the merchant is registered), where both agree.
    return sodium.crypto_box_seal_open(
      cipher,
      Buffer.from(keypair.publicKey, 'base64'),
      Buffer.from(keypair.secretKey, 'base64'),
    );
  } catch {
    return undefined;
  }
}

/** True when `b64` is ORIGINAL base64 that decodes to exactly 32 bytes (a box public key). */
export function isBoxPublicKey(b64: string): boolean {
  return decodeOriginalBase64(b64)?.length === 32;
}

/**
 * The public half of a box secret key (X25519 with node:crypto, as libsodium's
 * crypto_scalarmult_base), used to check that configured keypairs belong together. No
 * cryptoReady() needed. Throws for a key that is not 32 bytes of ORIGINAL base64.
 */
export function publicKeyOf(secretKeyB64: string): string {
  const secret = decodeOriginalBase64(secretKeyB64);
  if (secret?.length !== 32) throw new Error('a box secret key is 32 bytes of ORIGINAL base64');
  const key = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, secret]),
    format: 'der',
    type: 'pkcs8',
  });
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
}

/** Which implementation opens sealed boxes: `auto` prefers sodium-native when it is installed. */
export type CryptoMode = 'auto' | 'wasm';

/** Opens create/cancel/refund bodies. One per sandbox (`ctx.sealedBox`), chosen at startup. */
export interface SealedBoxOpener {
  /** The library in use (asking loads sodium-native, under `auto`, if it is not loaded yet). */
  readonly backend: 'sodium-native' | 'libsodium-wrappers';
  /** Resolves once `open` can be called: the chosen library is loaded (at once after the first time). */
  ready(): Promise<void>;
  /** The plaintext, or undefined when the box was not sealed to this keypair. */
  open(cipher: Uint8Array, keypair: BoxKeypair): Uint8Array | undefined;
  /**
   * Tries `keypairs` in order and resolves with the first that opens `cipher` (its index and the
   * plaintext as UTF-8 text), or undefined. On a worker thread when the opener has workers (`crypto_workers`),
   * else here. Call `ready()` first.
   */
  openFirst(cipher: Uint8Array, keypairs: readonly BoxKeypair[]): Promise<OpenedBox | undefined>;
  /** Worker threads opening boxes (0: the main thread does it). */
  readonly workers: number;
  /** At rest: stops idle workers (the next body starts one again). */
  release(): Promise<void>;
  /** Stops the workers, if any. */
  close(): Promise<void>;
}

/** The part of sodium-native's API the sandbox uses. */
interface NativeSodium {
  crypto_box_SEALBYTES: number;
  crypto_box_seal_open(message: Uint8Array, cipher: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean;
}

/** sodium-native when the optional dependency is installed and loads on this platform. */
function loadNativeSodium(): NativeSodium | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as NativeSodium;
  } catch {
    return undefined;
  }
}

/**
 * The sealed-box opener for this sandbox: sodium-native (libsodium compiled natively, an optional
 * dependency; about twice as fast per open in the bench) unless it is missing or `mode` is `wasm`,
 * then libsodium-wrappers. Both are libsodium: the same boxes open, the same ones fail. Nothing is
 * loaded at startup: `ready()` loads the library with the first body (sodium-native alone takes
 * ~50 ms to load, libsodium-wrappers ~60 ms; issue 10).
 *
 * With `workers` > 0, `openFirst` runs on that many worker threads (see crypto-workers.ts); they
 * load the same library. `open` always runs here.
 *
 * @example
 * const opener = createSealedBoxOpener('auto', 1);
 * await opener.ready();
 * opener.open(cipher, { publicKey, secretKey });
 * await opener.openFirst(cipher, [oldKey, newKey]); // { index, message } or undefined
 */
export function createSealedBoxOpener(mode: CryptoMode = 'auto', workers = 0): SealedBoxOpener {
  let native: NativeSodium | null | undefined = mode === 'wasm' ? null : undefined; // undefined: not tried yet
  const nativeSodium = () => (native === undefined ? (native = loadNativeSodium() ?? null) : native);
  // Stored keys are ORIGINAL base64 of 32 bytes, checked when the merchant is registered.
  const keyBytes = new Map<string, Buffer>();
  const bytesOf = (b64: string) => {
    let b = keyBytes.get(b64);
    if (!b) {
      b = Buffer.from(b64, 'base64');
      if (keyBytes.size >= 1024) keyBytes.clear();
      keyBytes.set(b64, b);
    }
    return b;
  };
  function open(cipher: Uint8Array, keypair: BoxKeypair): Uint8Array | undefined {
    const n = nativeSodium();
    if (!n) return openSealed(cipher, keypair);
    if (cipher.length < n.crypto_box_SEALBYTES) return undefined;
    const message = Buffer.allocUnsafe(cipher.length - n.crypto_box_SEALBYTES);
    const ok = n.crypto_box_seal_open(
      message,
      cipher,
      bytesOf(keypair.publicKey),
      bytesOf(keypair.secretKey),
    );
    return ok ? message : undefined;
  }
  function openFirstHere(cipher: Uint8Array, keypairs: readonly BoxKeypair[]): OpenedBox | undefined {
    for (let index = 0; index < keypairs.length; index++) {
      const m = open(cipher, keypairs[index]!);
      if (m) return { index, plaintext: Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('utf8') };
    }
    return undefined;
  }
  // The pool starts no thread until the first body; it is made only when its library resolves.
  let pool: CryptoWorkerPool | null | undefined = workers > 0 ? undefined : null;
  const poolOf = (): CryptoWorkerPool | null => {
    if (pool !== undefined) return pool;
    const library = workerLibrary(nativeSodium() ? 'sodium-native' : 'libsodium-wrappers');
    pool = library ? createCryptoWorkerPool({ size: workers, library, fallback: openFirstHere }) : null;
    return pool;
  };
  return {
    get backend() {
      return nativeSodium() ? 'sodium-native' : 'libsodium-wrappers';
    },
    // The main thread keeps its own library too: a worker that dies leaves its requests to it.
    ready: () => (nativeSodium() ? Promise.resolve() : cryptoReady()),
    open,
    openFirst(cipher, keypairs) {
      const p = poolOf();
      return p ? p.openFirst(cipher, keypairs) : Promise.resolve(openFirstHere(cipher, keypairs));
    },
    get workers() {
      return workers;
    },
    release: async () => {
      await pool?.release();
    },
    close: async () => {
      await pool?.close();
    },
  };
}
