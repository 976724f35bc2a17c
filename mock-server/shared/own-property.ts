/**
 * Sets an own data property, even one named `__proto__`: plain assignment (`o[key] = v`) would
 * change the object's prototype instead of adding a key, so a `__proto__` key in a config file,
 * a payload or a header could make every other lookup on that object find its values (issue 22).
 *
 * @example
 * const o = {};
 * setOwn(o, '__proto__', { port: 1 }); // Object.keys(o) = ['__proto__'], o.port === undefined
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
