// ESM throughout (fauxqs is ESM-only): jest runs with --experimental-vm-modules and swc strips types.
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
    // cognito-local (CJS) requires otplib, which requires these ESM-only packages. Node loads them
    // through require(esm); jest's module loader cannot, so they are compiled to CJS for the tests.
    '/node_modules/(@scure/base|@noble/hashes)/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@scure/base|@noble/hashes)/)'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // graphql 17 ships CommonJS and ES module builds; on Node 24 jest resolves graphql-armor's
    // require('graphql') to the ES build (the module-sync condition) and refuses that require(esm) in
    // a cycle. One build for every importer in the tests, and so one graphql realm.
    '^graphql$': '<rootDir>/node_modules/graphql/index.js',
  },
};

const timeout = '<rootDir>/test/helpers/timeout.ts';

export default {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'], globals: { projectTestTimeoutMs: 30_000 }, setupFilesAfterEnv: [timeout] },
    { ...base, displayName: 'reliability', testMatch: ['<rootDir>/test/reliability/**/*.test.ts'], globals: { projectTestTimeoutMs: 120_000 }, setupFilesAfterEnv: [timeout] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], globals: { projectTestTimeoutMs: 30_000 }, setupFilesAfterEnv: [timeout] },
    { ...base, displayName: 'smoke', testMatch: ['<rootDir>/test/smoke/**/*.test.ts'], globals: { projectTestTimeoutMs: 120_000 }, setupFilesAfterEnv: [timeout] },
    { ...base, displayName: 'iac', testMatch: ['<rootDir>/test/iac/**/*.test.ts'] },
  ],
};
