// Preload for spawning the CLI from source with tsx: vite/vitest define __APP_VERSION__ at build time,
// plain tsx does not.
globalThis.__APP_VERSION__ = 'test'
