// Small seeded PRNG so that generated data and probabilistic faults are reproducible from one seed.
// sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, public domain): fast, 128-bit state.

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ stream
    this.b = 0x243f6a88 ^ Math.imul(stream, 0x85ebca6b)
    this.c = 0xb7e15162
    this.d = seed | 0
    // Warm up so that nearby seeds diverge.
    for (let i = 0; i < 16; i++) this.nextUint32()
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  hex(length: number): string {
    let out = ''
    while (out.length < length) out += this.nextUint32().toString(16).padStart(8, '0')
    return out.slice(0, length)
  }

  uuid(): string {
    const h = this.hex(32)
    const variant = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
  }

  /** Token-like string of URL-safe base64 characters. */
  token(length: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[this.nextUint32() & 63]
    return out
  }
}
