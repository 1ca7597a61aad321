/** Unit tests run in-process; e2e tests drive real n8n runtimes and run one file at a time. */
const tsJest = ['ts-jest', {}];
// Runtime lockfile folders and bench packages are not test modules.
const modulePathIgnorePatterns = [
	'<rootDir>/dev/runtimes/',
	'<rootDir>/bench/packages/',
	'<rootDir>/dist/',
];

module.exports = {
	projects: [
		{
			displayName: 'unit',
			testEnvironment: 'node',
			modulePathIgnorePatterns,
			transform: { '^.+\\.ts$': tsJest },
			testMatch: ['<rootDir>/test/**/*.test.ts'],
			testPathIgnorePatterns: ['<rootDir>/test/e2e/'],
		},
		{
			displayName: 'e2e',
			testEnvironment: 'node',
			modulePathIgnorePatterns,
			transform: { '^.+\\.ts$': tsJest },
			testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
		},
	],
};
