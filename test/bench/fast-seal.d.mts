/** A sealer bound to one recipient public key (base64): libsodium's crypto_box_seal. Call after `await sodium.ready`. */
export function createFastSealer(publicKeyB64: string): { seal(plaintext: string): string };
/** Throws unless a sealed message opens with crypto_box_seal_open and the matching secret key. */
export function checkFastSeal(publicKeyB64: string, secretKeyB64: string): void;
