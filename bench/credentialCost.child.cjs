// Run by credentialCostBench.ts with an n8n runtime's own Node.js: argv[2] is the runtime's
// folder, argv[3] the number of calls per measurement. Prints one JSON line of results.
//
// What httpRequestWithAuthentication costs a webhook call on top of the request, in that n8n's
// own n8n-workflow and expression engine (n8n-core and the CLI's CredentialsHelper do exactly
// these steps; only the database read and decryption of getCredentials() are left out):
//   authenticate: the Truv API credential's two `={{$credentials.…}}` header expressions, in the
//     expression isolate n8n already holds for the webhook call;
//   getCredentials: CredentialsHelper.applyDefaultsAndOverwrites(), which builds a Workflow and
//     acquires an expression isolate of its own to resolve the credential's fields.
const runtimeDir = process.argv[2];
const calls = Number(process.argv[3] ?? 200);
const load = (name) => require(require.resolve(name, { paths: [runtimeDir] }));
const { Expression, Workflow } = load('n8n-workflow');

const nodeTypes = {
	getByName: () => ({ description: { properties: [] } }),
	getByNameAndVersion: () => ({ description: { properties: [] } }),
	getKnownTypes: () => ({}),
};
const credential = {
	clientId: 'client-0123456789abcdef',
	accessSecret: 'sandbox-0123456789abcdef0123456789abcdef',
	environment: 'fromSecret',
	secondaryAccessSecret: '',
	baseUrl: 'https://prod.truv.com',
};

async function perCall(step) {
	for (let warmUp = 0; warmUp < 20; warmUp++) await step();
	const cpuBefore = process.cpuUsage();
	const started = process.hrtime.bigint();
	for (let call = 0; call < calls; call++) await step();
	const wallMs = Number(process.hrtime.bigint() - started) / 1e6 / calls;
	const cpu = process.cpuUsage(cpuBefore);
	return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 / calls };
}

async function main() {
	// n8n's defaults (ExpressionEngineConfig): the vm engine with a pool of one isolate.
	await Expression.initExpressionEngine({
		engine: 'vm',
		poolSize: 1,
		maxCodeCacheSize: 1024,
		bridgeTimeout: 5000,
		bridgeMemoryLimit: 128,
		lazyAcquire: false,
		compileCache: false,
	});
	const node = {
		id: 'trigger',
		name: 'Truv Order Trigger',
		type: 'n8n-nodes-truv.truvOrderTrigger',
		typeVersion: 2,
		position: [0, 0],
		parameters: {},
	};
	const webhookWorkflow = new Workflow({ nodes: [node], connections: {}, active: true, nodeTypes });
	// As n8n's live webhook handler does for every call to a community trigger.
	await webhookWorkflow.expression.acquireIsolate();

	const authenticate = await perCall(async () => {
		for (const field of ['clientId', 'accessSecret']) {
			const value = webhookWorkflow.expression.getSimpleParameterValue(
				node,
				`={{$credentials.${field}}}`,
				'internal',
				{ $credentials: credential },
				undefined,
				'',
			);
			if (value !== credential[field]) throw new Error(`${field} resolved to ${value}`);
		}
	});
	const mockNode = { name: '', typeVersion: 1, type: 'mock', position: [0, 0], parameters: {} };
	const getCredentials = await perCall(async () => {
		const workflow = new Workflow({ nodes: [mockNode], connections: {}, active: false, nodeTypes });
		await workflow.expression.acquireIsolate();
		try {
			workflow.expression.getComplexParameterValue(
				mockNode,
				{ ...credential },
				'webhook',
				{},
				undefined,
				undefined,
				{ ...credential },
			);
		} finally {
			await workflow.expression.releaseIsolate();
		}
	});
	await webhookWorkflow.expression.releaseIsolate();
	await Expression.disposeExpressionEngine();
	process.stdout.write(`${JSON.stringify({ calls, authenticate, getCredentials })}\n`);
}

main().then(
	() => process.exit(0),
	(error) => {
		process.stderr.write(`${error.stack}\n`);
		process.exit(1);
	},
);
