import { existsSync, readFileSync } from 'node:fs';

// package.json is two levels up from dist/src/version.js and one level up from src/version.ts (tests).
const packageJson = [new URL('../../package.json', import.meta.url), new URL('../package.json', import.meta.url)].find((url) => existsSync(url))!;

/** The package version, read once from package.json so there is one source of truth. */
export const GPO_VERSION: string = JSON.parse(readFileSync(packageJson, 'utf8')).version;
