// The packed package in real n8n (2.41.1 on Node 24, 2.8.4 on Node 20), installed as the Community
// Nodes installer does, driven by the Truv API stand-in's signed deliveries.
import { existsSync, readFileSync } from 'fs';
import { rm } from 'fs/promises';
import { join } from 'path';

import { provisionN8n } from '../../dev/n8n/runtimes';
import {
	createTestedStandInCredential,
	e2eVersions,
	exactlyExecutions,
	freshEvent,
	minutes,
	ORDER_FIXTURES,
	OUTPUT_INDEX,
	PACKAGE_NODE_TYPES,
	skippedAsProcessed,
	triggerOutput,
	truvWebhooks as waitForTruvWebhooks,
	usePackedRepository,
} from './e2eSetup';
import {
	signTruvWebhookBody,
	startTruvStandIn,
	type TruvStandIn,
} from '../../dev/truv-stand-in/truvStandIn';
import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import { waitFor } from '../../dev/n8n/wait';
import { startN8n, type CreatedCredential, type N8nInstance } from '../../dev/n8n/n8nInstance';
import { startSmtpSink, type SmtpSink } from '../../dev/n8n/smtpSink';
import {
	exampleFiles,
	exampleWorkflow,
	outputPath,
	routingWorkflow,
	shippedExample,
	TRUV_TRIGGER_NAME,
	TRUV_TRIGGER_TYPE,
	TRUV_TRIGGER_VERSION,
	triggerWebhookId,
} from '../../dev/workflows/truvWorkflows';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

const packedTarball = usePackedRepository();

describe.each(e2eVersions)('Truv Order Trigger in n8n %s', (version) => {
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let httpSink: HttpSink;
	let smtpSink: SmtpSink;
	let truvCredential: CreatedCredential;
	let smtpCredential: CreatedCredential;
	let emailWorkflowId: string;
	let routingWorkflowId: string;
	const routingWebhookId = `truv-routing-${version.replace(/\./g, '-')}`;
	let emailWebhookId: string;
	const routingUrl = () => n8n.webhookUrl(`${routingWebhookId}/webhook`);

	/** Delivers straight to the routing workflow's URL, once, as Truv would (signed unless told). */
	const deliverToRouting = async (
		event: Record<string, unknown> | Buffer | string,
		options: Parameters<TruvStandIn['deliver']>[1] = {},
	) => {
		const result = await standIn.deliver(
			typeof event === 'object' && !Buffer.isBuffer(event)
				? Buffer.from(JSON.stringify(event))
				: event,
			{ url: routingUrl(), maxRetries: 0, ...options },
		);
		return result.attempts[result.attempts.length - 1];
	};

	const truvWebhooks = async (count: number) => await waitForTruvWebhooks(standIn, count);

	/** The routing workflow's executions so far. */
	const routingCount = async () => (await n8n.executions({ workflowId: routingWorkflowId })).length;

	/** Waits for exactly `count` executions of the routing workflow (a later one fails the test). */
	const routingExecutions = async (count: number) =>
		await exactlyExecutions(n8n, routingWorkflowId, count);

	beforeAll(async () => {
		await provisionN8n(version);
		[standIn, httpSink, smtpSink] = await Promise.all([
			startTruvStandIn({ delivery: { retryDelayMs: 200, maxRetries: 3, timeoutMs: 10_000 } }),
			startHttpSink(),
			startSmtpSink(),
		]);
		n8n = await startN8n({ version, tarballs: [packedTarball()] });
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([standIn?.close(), httpSink?.close(), smtpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test("is installed through n8n's installer from the registry: no bundled dependencies, types under n8n-nodes-truv", async () => {
		const { name, version: packageVersion } = JSON.parse(
			readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
		) as { name: string; version: string };
		expect(n8n.registry.requests).toContain(`GET /${name}/-/${name}-${packageVersion}.tgz`);
		expect((await n8n.nodeTypes()).get(TRUV_TRIGGER_TYPE)).toEqual([TRUV_TRIGGER_VERSION]);
		expect(await n8n.credentialTypes()).toContain('truvApi');
		const installed = join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-truv');
		const packageJson = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
		expect(packageJson.peerDependencies).toBeUndefined();
		expect(packageJson.devDependencies).toBeUndefined();
		// zod and n8n-workflow can only come from n8n itself.
		expect(existsSync(join(installed, 'node_modules'))).toBe(false);
		expect(await n8n.communityPackages()).toEqual([
			expect.objectContaining({
				packageName: name,
				installedVersion: packageVersion,
				installedNodes: expect.arrayContaining(
					PACKAGE_NODE_TYPES.map((node) => expect.objectContaining({ type: node.type })),
				),
			}),
		]);
	});

	test("the credential test passes through n8n's API with good keys and fails with bad ones", async () => {
		truvCredential = await createTestedStandInCredential(n8n, standIn);
	});

	test('activation registers one Truv webhook per trigger, with its selected events', async () => {
		smtpCredential = await n8n.createCredential('smtp', 'SMTP sink', {
			host: '127.0.0.1',
			port: smtpSink.port,
			secure: false,
			disableStartTls: true,
			user: 'n8n',
			password: 'sink',
		});
		const email = exampleWorkflow('truv-refresh-failed-to-email.json', {
			credentials: {
				truvApi: { id: truvCredential.id, name: truvCredential.name },
				smtp: { id: smtpCredential.id, name: smtpCredential.name },
			},
		});
		emailWebhookId = triggerWebhookId(email);
		emailWorkflowId = (await n8n.createWorkflow(email)).id;
		routingWorkflowId = (
			await n8n.createWorkflow(
				routingWorkflow(
					routingWebhookId,
					{ id: truvCredential.id, name: truvCredential.name },
					httpSink.url,
				),
			)
		).id;
		await n8n.activateWorkflow(emailWorkflowId);
		await n8n.activateWorkflow(routingWorkflowId);
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		await n8n.waitForWebhook(`${emailWebhookId}/webhook`);
		await truvWebhooks(2);

		const registered = standIn.webhooks().map(({ webhook_url, env_type, events, enabled }) => ({
			webhook_url,
			env_type,
			events,
			enabled,
		}));
		expect(registered).toHaveLength(2);
		expect(registered).toEqual(
			expect.arrayContaining([
				{
					webhook_url: n8n.webhookUrl(`${emailWebhookId}/webhook`),
					env_type: 'sandbox',
					events: ['order-refresh-failed'],
					enabled: true,
				},
				{
					webhook_url: routingUrl(),
					env_type: 'sandbox',
					events: ['order-created', 'order-status-updated', 'order-refresh-failed'],
					enabled: true,
				},
			]),
		);
	});

	test('each order event runs its own branch only; a refresh failure sends exactly one email', async () => {
		const sent: Array<Record<string, unknown>> = [];
		for (const [fixture] of ORDER_FIXTURES) {
			const event = freshEvent(fixture);
			sent.push(event);
			// To every enabled webhook subscribed to the event, as Truv does.
			const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });
			expect(result.attempts.map((attempt) => attempt.status)).toEqual(
				event.event_type === 'order-refresh-failed' ? [200, 200] : [200],
			);
		}
		const executions = await routingExecutions(sent.length);
		const byWebhookId = new Map(
			executions.map((execution) => [triggerOutput(execution).json.webhook_id, execution]),
		);
		for (const event of sent) {
			const execution = byWebhookId.get(event.webhook_id)!;
			expect(execution.status).toBe('success');
			const { output, json } = triggerOutput(execution);
			expect(output).toBe(OUTPUT_INDEX[String(event.event_type)]);
			expect(json).toEqual(event);
		}
		const posted = await httpSink.waitFor(sent.length);
		for (const [eventType, count] of [
			['order-created', 1],
			['order-status-updated', 3],
			['order-refresh-failed', 1],
		] as const) {
			expect(
				posted.filter((request) => request.path === outputPath(routingWebhookId, eventType)),
			).toHaveLength(count);
		}

		const [emailExecution] = await n8n.waitForExecutions({ workflowId: emailWorkflowId, count: 1 });
		expect(emailExecution.status).toBe('success');
		const [message] = await smtpSink.waitFor(1);
		expect(message.headers.subject).toContain('4138538');
		expect(message.body).toContain('Order number: 4138538');
		expect(smtpSink.messages).toHaveLength(1);
	});

	test('refuses forged and broken deliveries with 401 or 400 and acknowledges other events, without executions', async () => {
		const before = await routingCount();
		const genuine = Buffer.from(JSON.stringify(freshEvent('order-created')));
		const tampered = Buffer.from(genuine.toString().replace('"pending"', '"completed"'));
		const invalid = freshEvent('order-refresh-failed');
		delete invalid.order_id;
		const cases: Array<[string, Buffer, Parameters<TruvStandIn['deliver']>[1], number]> = [
			['unsigned', genuine, { signature: null }, 401],
			['signed with another secret', genuine, { secret: 'sandbox-attacker' }, 401],
			[
				'tampered',
				tampered,
				{ signature: signTruvWebhookBody(genuine, standIn.account.secrets.sandbox!) },
				401,
			],
			['non-order event', Buffer.from(JSON.stringify(freshEvent('task-status-updated'))), {}, 200],
			[
				'order-finalized',
				Buffer.from(JSON.stringify(freshEvent('order-created', { event_type: 'order-finalized' }))),
				{},
				200,
			],
		];
		for (const [label, body, options, status] of cases) {
			const attempt = await deliverToRouting(body, options);
			expect({ label, status: attempt.status }).toEqual({ label, status });
			expect(JSON.parse(attempt.responseBody ?? '{}')).toEqual(
				expect.objectContaining({ received: status === 200, message: expect.any(String) }),
			);
		}
		// A genuine delivery after them: once it has run, nothing else may have.
		expect((await deliverToRouting(freshEvent('order-created'))).status).toBe(200);
		await routingExecutions(before + 1);
	});

	test('an example imported twice, as Import from File does, listens on two URLs of its own, each running only its own workflow', async () => {
		const file = 'truv-refresh-failed-to-email.json';
		// Shipped without webhookId: n8n keeps one on import, so a fixed id would be the same URL
		// on every instance that imports the example, and a collision on one that imports it twice.
		expect(shippedExample(file).nodes.filter((node) => 'webhookId' in node)).toEqual([]);
		const registeredBefore = standIn.webhooks().length;
		const copies: Array<{ workflowId: string; url: string; event: Record<string, unknown> }> = [];
		for (const copy of [1, 2]) {
			const workflow = exampleWorkflow(file, {
				credentials: {
					truvApi: { id: truvCredential.id, name: truvCredential.name },
					smtp: { id: smtpCredential.id, name: smtpCredential.name },
				},
			});
			workflow.name = `${workflow.name} (import ${copy})`;
			const created = await n8n.createWorkflow(workflow);
			const stored = created.nodes.find((node) => node.type === TRUV_TRIGGER_TYPE);
			expect(stored?.webhookId).toBe(triggerWebhookId(workflow));
			await n8n.activateWorkflow(created.id);
			const path = `${triggerWebhookId(workflow)}/webhook`;
			await n8n.waitForWebhook(path);
			const event = freshEvent('order-refresh-failed');
			copies.push({ workflowId: created.id, url: n8n.webhookUrl(path), event });
		}
		expect(new Set(copies.map(({ url }) => url)).size).toBe(2);
		const registered = await truvWebhooks(registeredBefore + 2);
		expect(registered.map(({ webhook_url }) => webhook_url)).toEqual(
			expect.arrayContaining(copies.map(({ url }) => url)),
		);

		for (const copy of copies) {
			const result = await standIn.deliver(Buffer.from(JSON.stringify(copy.event)), {
				url: copy.url,
				maxRetries: 0,
			});
			expect(result.attempts.map((attempt) => attempt.status)).toEqual([200]);
		}
		for (const copy of copies) {
			const [execution] = await exactlyExecutions(n8n, copy.workflowId, 1);
			expect(execution.status).toBe('success');
			expect(triggerOutput(execution)).toEqual({
				output: OUTPUT_INDEX['order-refresh-failed'],
				json: copy.event,
			});
		}

		for (const copy of copies) await n8n.deactivateWorkflow(copy.workflowId);
		await truvWebhooks(registeredBefore);
	});

	test("Execute step with Show a Sample Event shows the account's newest matching event on its own output, marked as a sample, registering nothing at Truv and counting nothing", async () => {
		const sampleWebhookId = `truv-sample-${version.replace(/\./g, '-')}`;
		// A real delivery elsewhere: it is in Truv's delivery history, the newest refresh failure.
		const event = freshEvent('order-refresh-failed');
		await standIn.deliver(Buffer.from(JSON.stringify(event)), { url: httpSink.url, maxRetries: 0 });
		const workflow = routingWorkflow(
			sampleWebhookId,
			{ id: truvCredential.id, name: truvCredential.name },
			httpSink.url,
			{ testEvent: 'sample', sampleEventType: 'order-refresh-failed' },
		);
		const { id: workflowId } = await n8n.createWorkflow(workflow);
		const webhooksBefore = standIn.webhooks().map(({ id }) => id);

		// The editor's Execute step on the trigger.
		const started = await n8n.rest<{ executionId?: string; waitingForWebhook?: boolean }>(
			'POST',
			`/workflows/${workflowId}/run`,
			{
				workflowData: await n8n.getWorkflow(workflowId),
				triggerToStartFrom: { name: TRUV_TRIGGER_NAME },
			},
		);
		expect(started).toEqual(expect.objectContaining({ waitingForWebhook: true }));
		const [execution] = await exactlyExecutions(n8n, workflowId, 1);
		expect({ mode: execution.mode, status: execution.status }).toEqual({
			mode: 'manual',
			status: 'success',
		});
		expect(triggerOutput(execution)).toEqual({
			output: OUTPUT_INDEX['order-refresh-failed'],
			json: {
				...event,
				n8n_sample: {
					source: 'deliveryHistory',
					note: expect.stringContaining('not a new delivery'),
				},
			},
		});
		expect(standIn.webhooks().map(({ id }) => id)).toEqual(webhooksBefore);

		// Published, the same event delivered by Truv is a first delivery, not a duplicate of the
		// sample, and carries no sample mark.
		await n8n.activateWorkflow(workflowId);
		await n8n.waitForWebhook(`${sampleWebhookId}/webhook`);
		await truvWebhooks(webhooksBefore.length + 1);
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
			url: n8n.webhookUrl(`${sampleWebhookId}/webhook`),
			maxRetries: 0,
		});
		const answer = result.attempts[result.attempts.length - 1];
		expect(JSON.parse(answer.responseBody ?? '{}').outcome).toBe('accepted');
		const executions = await exactlyExecutions(n8n, workflowId, 2);
		const published = executions.find(({ mode }) => mode !== 'manual');
		expect(published && triggerOutput(published)).toEqual({
			output: OUTPUT_INDEX['order-refresh-failed'],
			json: event,
		});
		await n8n.deactivateWorkflow(workflowId);
		await truvWebhooks(webhooksBefore.length);
	});

	test('Include Order Details: the item reaching the next node carries the order; with Truv failing the lookup, the delivery is still acknowledged and runs once, saying why', async () => {
		const detailsWebhookId = `truv-details-${version.replace(/\./g, '-')}`;
		const { id: workflowId } = await n8n.createWorkflow(
			routingWorkflow(
				detailsWebhookId,
				{ id: truvCredential.id, name: truvCredential.name },
				httpSink.url,
				{ options: { includeOrderDetails: true } },
			),
		);
		const registeredBefore = standIn.webhooks().length;
		await n8n.activateWorkflow(workflowId);
		const path = `${detailsWebhookId}/webhook`;
		await n8n.waitForWebhook(path);
		await truvWebhooks(registeredBefore + 1);
		const order = standIn.addOrder({
			products: ['income'],
			first_name: 'Ada',
			last_name: 'Lovelace',
			email: 'ada@example.com',
			order_number: `DETAILS-${version}`,
			employers: [{ company_name: 'Analytical Engines Ltd' }],
		});
		const sinkPath = outputPath(detailsWebhookId, 'order-status-updated');
		const posted = () => httpSink.requests.filter((request) => request.path === sinkPath);
		const deliverEvent = async (event: Record<string, unknown>) => {
			const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
				url: n8n.webhookUrl(path),
				maxRetries: 3,
			});
			return result.attempts.map((attempt) => [
				attempt.status,
				JSON.parse(attempt.responseBody ?? '{}').outcome,
			]);
		};

		const found = freshEvent('order-status-updated-completed', { order_id: order.id });
		expect(await deliverEvent(found)).toEqual([[200, 'accepted']]);
		const [execution] = await exactlyExecutions(n8n, workflowId, 1);
		expect(execution.status).toBe('success');
		const [withOrder] = await waitFor(
			async () => {
				const received = posted();
				if (received.length < 1) throw new Error('nothing posted yet');
				return received;
			},
			{ timeoutMs: 30_000, description: 'the Status branch posting to the sink' },
		);
		expect(withOrder.json).toEqual({
			...found,
			order_details: standIn.orders().find(({ id }) => id === order.id),
		});
		expect(withOrder.json).toMatchObject({
			order_details: {
				id: order.id,
				first_name: 'Ada',
				last_name: 'Lovelace',
				employers: [expect.objectContaining({ company_name: 'Analytical Engines Ltd' })],
			},
		});

		// Truv's order endpoint answers 500 now for another order (the first one's answer would be
		// reused for a few seconds): the lookup fails, the delivery does not.
		const other = standIn.addOrder({
			products: ['income'],
			first_name: 'Charles',
			last_name: 'Babbage',
			order_number: `DETAILS-FAILING-${version}`,
			employers: [{ company_name: 'Difference Engines Ltd' }],
		});
		standIn.setFault({ method: 'GET', path: `/v1/orders/${other.id}/`, kind: 'status500' });
		const lookups = () =>
			standIn.calls.filter(
				({ method, path: called }) => method === 'GET' && called === `/v1/orders/${other.id}/`,
			).length;
		const lookupsBefore = lookups();
		const failing = freshEvent('order-status-updated-completed', { order_id: other.id });
		try {
			expect(await deliverEvent(failing)).toEqual([[200, 'accepted']]);
			const executions = await exactlyExecutions(n8n, workflowId, 2);
			expect(executions.map(({ status }) => status)).toEqual(['success', 'success']);
		} finally {
			standIn.clearFaults();
		}
		expect(lookups()).toBe(lookupsBefore + 1);
		const withError = await waitFor(
			async () => {
				const received = posted();
				if (received.length < 2) throw new Error(`${received.length} posted so far`);
				return received[1];
			},
			{ timeoutMs: 30_000, description: 'the second post from the Status branch' },
		);
		expect(withError.json).toEqual({
			...failing,
			order_details: null,
			order_details_error: 'Could not get the order details: Truv answered HTTP 500',
		});
		expect(posted()).toHaveLength(2);

		await n8n.deactivateWorkflow(workflowId);
		await truvWebhooks(registeredBefore);
	});

	test('Connection Failed selected: registration asks Truv for task-status-updated, and a failed connection reaches the No Connection output (4th) only', async () => {
		const connectionWebhookId = `truv-connection-${version.replace(/\./g, '-')}`;
		const events = [
			'order-created',
			'order-status-updated',
			'order-refresh-failed',
			'task-status-updated',
		];
		const { id: workflowId } = await n8n.createWorkflow(
			routingWorkflow(
				connectionWebhookId,
				{ id: truvCredential.id, name: truvCredential.name },
				httpSink.url,
				{ events },
			),
		);
		const registeredBefore = standIn.webhooks().length;
		await n8n.activateWorkflow(workflowId);
		const path = `${connectionWebhookId}/webhook`;
		await n8n.waitForWebhook(path);
		await truvWebhooks(registeredBefore + 1);
		const registered = standIn
			.webhooks()
			.find(({ webhook_url }) => webhook_url === n8n.webhookUrl(path));
		expect(registered).toMatchObject({ env_type: 'sandbox', enabled: true, events });

		// A task that ended well is no failed connection: acknowledged, nothing runs.
		const succeeded = freshEvent('task-status-updated', { status: 'done' });
		const failed = freshEvent('task-status-updated', {
			status: 'login_error',
			tracking_info: 'e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0',
		});
		for (const event of [succeeded, failed]) {
			const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
				maxRetries: 0,
			});
			// Delivered as Truv does: to every webhook subscribed to task-status-updated, this one.
			expect(
				result.targets.map(({ url, attempts }) => [url, attempts.map(({ status }) => status)]),
			).toEqual([[n8n.webhookUrl(path), [200]]]);
		}
		const [execution] = await exactlyExecutions(n8n, workflowId, 1);
		expect(execution.status).toBe('success');
		// With the order's employer_id, which Truv sends as tracking_info.
		const item = { ...failed, employer_id: 'e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0' };
		expect(triggerOutput(execution)).toEqual({ output: 3, json: item });
		const sinkPath = outputPath(connectionWebhookId, 'task-status-updated');
		const [received] = await waitFor(
			async () => {
				const posts = httpSink.requests.filter((request) => request.path === sinkPath);
				if (posts.length < 1) throw new Error('nothing posted yet');
				return posts;
			},
			{ timeoutMs: 30_000, description: 'the No Connection branch posting to the sink' },
		);
		expect(received.json).toEqual(item);
		const fromThisWorkflow = httpSink.requests.filter((request) =>
			request.path.startsWith(`/${connectionWebhookId}/`),
		);
		expect(fromThisWorkflow.map((request) => request.path)).toEqual([sinkPath]);

		await n8n.deactivateWorkflow(workflowId);
		await truvWebhooks(registeredBefore);
	});

	test("a signed delivery Truv's format does not describe is acknowledged (Truv does not retry it) and shown as a failed execution, once", async () => {
		const before = await routingCount();
		const logBefore = readFileSync(n8n.logFile, 'utf8').length;
		const invalid = freshEvent('order-refresh-failed', { status: null });
		const attempt = await deliverToRouting(invalid, { maxRetries: 3 });
		expect(attempt.status).toBe(200);
		expect(JSON.parse(attempt.responseBody ?? '{}')).toEqual(
			expect.objectContaining({ received: true, outcome: 'invalid_payload' }),
		);
		const failed = (await routingExecutions(before + 1)).filter(({ status }) => status === 'error');
		expect(failed).toHaveLength(1);
		const error = failed[0].data?.resultData.error as { message?: string; description?: string };
		expect(error.message).toBe('Truv sent an order-refresh-failed event this trigger cannot read');
		expect(error.description).toContain('status: expected string, received null');
		expect(error.description).toContain(String(invalid.webhook_id));
		// The failure is the execution's: n8n logs no failed start and no second answer for it.
		const logged = readFileSync(n8n.logFile, 'utf8').slice(logBefore);
		expect(logged).not.toMatch(/Workflow could not be started|Cannot set headers/);
		// n8n keeps serving: the next genuine delivery runs.
		expect((await deliverToRouting(freshEvent('order-created'))).status).toBe(200);
		await routingExecutions(before + 2);
		expect(n8n.isRunning()).toBe(true);
	});

	test('the same webhook_id three times runs the workflow once, across a restart of n8n too', async () => {
		const before = await routingCount();
		const event = freshEvent('order-status-updated-completed');
		const answers = [];
		answers.push(await deliverToRouting(event));
		answers.push(await deliverToRouting(event));
		// Accepted once and never repeated before the restart.
		const acceptedOnce = freshEvent('order-created');
		answers.push(await deliverToRouting(acceptedOnce));
		await routingExecutions(before + 2);
		await n8n.restart();
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		answers.push(await deliverToRouting(event));
		answers.push(await deliverToRouting(acceptedOnce));
		// After the restart n8n's processed-data store knows both: their executions end at the trigger.
		expect(
			answers.map((answer) => [answer.status, JSON.parse(answer.responseBody ?? '{}').outcome]),
		).toEqual([
			[200, 'accepted'],
			[200, 'duplicate'],
			[200, 'accepted'],
			[200, 'accepted'],
			[200, 'accepted'],
		]);
		expect((await deliverToRouting(freshEvent('order-created'))).status).toBe(200);
		// Five new executions (this suite's earlier ones never end at the trigger): three ran.
		const executions = await routingExecutions(before + 5);
		expect(executions.filter(skippedAsProcessed)).toHaveLength(2);
	});

	test('a delivery Truv retries after a failed answer still runs the workflow once', async () => {
		const before = await routingCount();
		const event = freshEvent('order-refresh-failed');
		// n8n is not serving the URL when Truv first delivers (404), then is again: Truv retries.
		await n8n.deactivateWorkflow(routingWorkflowId);
		await truvWebhooks(1);
		const delivery = standIn.deliver(Buffer.from(JSON.stringify(event)), {
			url: routingUrl(),
			maxRetries: 3,
			retryDelayMs: 4_000,
		});
		await n8n.activateWorkflow(routingWorkflowId);
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		await truvWebhooks(2);
		const result = await delivery;
		expect(result.attempts[0].status).toBe(404);
		expect(result.attempts[result.attempts.length - 1].status).toBe(200);
		// Truv may also deliver it again on its own: acknowledged, not run.
		const again = await deliverToRouting(event);
		expect(JSON.parse(again.responseBody ?? '{}').outcome).toBe('duplicate');
		const executions = await routingExecutions(before + 1);
		expect(triggerOutput(executions[0]).json.webhook_id).toBe(event.webhook_id);
	});

	test('restarting with active workflows keeps exactly one webhook each; deactivating removes it', async () => {
		await n8n.restart();
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		await n8n.waitForWebhook(`${emailWebhookId}/webhook`);
		expect(await truvWebhooks(2)).toHaveLength(2);

		await n8n.deactivateWorkflow(emailWorkflowId);
		expect((await truvWebhooks(1)).map((webhook) => webhook.webhook_url)).toEqual([routingUrl()]);
	});

	test('killed with SIGKILL while active, n8n restarts with exactly one webhook and deliveries resume', async () => {
		const before = await routingCount();
		await n8n.kill();
		await n8n.restart();
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		expect((await truvWebhooks(1)).map((webhook) => webhook.webhook_url)).toEqual([routingUrl()]);
		const result = await standIn.deliver(Buffer.from(JSON.stringify(freshEvent('order-created'))), {
			maxRetries: 0,
		});
		expect(result.attempts.map((attempt) => attempt.status)).toEqual([200]);
		await routingExecutions(before + 1);
	});

	test('stopped with the workflow unpublished, n8n leaves no webhook at Truv', async () => {
		await n8n.deactivateWorkflow(routingWorkflowId);
		await truvWebhooks(0);
		await n8n.stop();
		expect(standIn.webhooks()).toEqual([]);
		await n8n.restart();
		expect(standIn.webhooks()).toEqual([]);
	});

	test.each(exampleFiles)(
		'example %s imports and uses node types and versions this n8n has',
		async (file) => {
			const workflow = exampleWorkflow(file);
			const created = await n8n.createWorkflow(workflow);
			expect(created.nodes).toHaveLength(workflow.nodes.length);
			const known = await n8n.nodeTypes();
			for (const node of workflow.nodes) {
				const versionsOfType = known.get(String(node.type));
				expect({ type: node.type, versions: versionsOfType }).toEqual({
					type: node.type,
					versions: expect.arrayContaining([node.typeVersion]),
				});
			}
		},
	);
});
