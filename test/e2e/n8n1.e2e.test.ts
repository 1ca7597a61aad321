// The packed package in n8n 1.123.81 (Node 24), the last 1.x line and the lowest engines.n8n: a
// shorter suite than the full matrix (2.41.1, 2.8.4) gets, in every default e2e run (npm test, CI).
// Installed through its Community Nodes installer, the trigger runs against the Truv API stand-in's
// signed deliveries and the Truv node in the shipped email example. Runs unless E2E_N8N_VERSIONS is
// set and leaves 1.123.81 out.
import { readFileSync } from 'fs';
import { rm } from 'fs/promises';
import { join } from 'path';

import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import { startN8n, type CreatedCredential, type N8nInstance } from '../../dev/n8n/n8nInstance';
import { provisionN8n, type ExperimentalN8nVersion } from '../../dev/n8n/runtimes';
import { startSmtpSink, type SmtpSink } from '../../dev/n8n/smtpSink';
import { startTruvStandIn, type TruvStandIn } from '../../dev/truv-stand-in/truvStandIn';
import {
	exampleFiles,
	exampleWorkflow,
	outputPath,
	routingWorkflow,
	TRUV_NODE_TYPE,
	TRUV_NODE_VERSIONS,
	TRUV_TRIGGER_TYPE,
	TRUV_TRIGGER_VERSION,
	triggerWebhookId,
} from '../../dev/workflows/truvWorkflows';
import {
	createTestedStandInCredential,
	e2eIncludes,
	exactlyExecutions,
	freshEvent,
	installedNodeTypes,
	minutes,
	ORDER_FIXTURES,
	OUTPUT_INDEX,
	PACKAGE_NODE_TYPES,
	skippedAsProcessed,
	triggerOutput,
	truvWebhooks,
	usePackedRepository,
} from './e2eSetup';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

const VERSION: ExperimentalN8nVersion = '1.123.81';
const EMAIL_EXAMPLE = 'truv-refresh-failed-to-email.json';
const { name: PACKAGE_NAME, version: PACKAGE_VERSION } = JSON.parse(
	readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
) as { name: string; version: string };

const describeIfIncluded = e2eIncludes(VERSION) ? describe : describe.skip;

describeIfIncluded(`n8n-nodes-truv in n8n ${VERSION}`, () => {
	const packedTarball = usePackedRepository();
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let httpSink: HttpSink;
	let smtpSink: SmtpSink;
	let truvCredential: CreatedCredential;
	let routingWorkflowId: string;
	const routingWebhookId = `truv-routing-${VERSION.replace(/\./g, '-')}`;
	const routingUrl = () => n8n.webhookUrl(`${routingWebhookId}/webhook`);

	/** Delivers to the routing workflow's URL once, signed, as Truv would; returns the attempt. */
	const deliverToRouting = async (event: Record<string, unknown>) => {
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
			url: routingUrl(),
			maxRetries: 0,
		});
		return result.attempts[result.attempts.length - 1];
	};

	/** Waits for exactly `count` executions of the routing workflow (a later one fails the test). */
	const routingExecutions = async (count: number) =>
		await exactlyExecutions(n8n, routingWorkflowId, count);

	/** How often n8n's npm asked the registry (through the proxy) for the package's metadata. */
	const packumentRequests = (): number =>
		n8n.registry.requests.filter((line) => line === `GET /${PACKAGE_NAME}`).length;

	beforeAll(async () => {
		// A clean cache installs 1.123 here: about 6 minutes, building isolated-vm on Node 24.
		await provisionN8n(VERSION);
		[standIn, httpSink, smtpSink] = await Promise.all([
			startTruvStandIn({ delivery: { retryDelayMs: 200, maxRetries: 0, timeoutMs: 10_000 } }),
			startHttpSink(),
			startSmtpSink(),
		]);
		n8n = await startN8n({ version: VERSION, tarballs: [packedTarball()] });
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([standIn?.close(), httpSink?.close(), smtpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test("is installed through n8n's installer from the registry; n8n loads the trigger at version 2 and the Truv node", async () => {
		expect(n8n.registry.requests).toContain(
			`GET /${PACKAGE_NAME}/-/${PACKAGE_NAME}-${PACKAGE_VERSION}.tgz`,
		);
		const [listed, ...others] = await n8n.communityPackages();
		expect(others).toEqual([]);
		expect(listed).toEqual(
			expect.objectContaining({ packageName: PACKAGE_NAME, installedVersion: PACKAGE_VERSION }),
		);
		expect(listed.failedLoading).toBeFalsy();
		expect(installedNodeTypes(listed)).toEqual(PACKAGE_NODE_TYPES);
		const known = await n8n.nodeTypes();
		expect(TRUV_TRIGGER_VERSION).toBe(2);
		expect(known.get(TRUV_TRIGGER_TYPE)).toEqual([TRUV_TRIGGER_VERSION]);
		expect(known.get(TRUV_NODE_TYPE)).toEqual(TRUV_NODE_VERSIONS);
		expect(await n8n.credentialTypes()).toContain('truvApi');
	});

	test("the Community Nodes page's update check asks the registry through the harness's proxy", async () => {
		// 1.123 runs `npm outdated` without the environment: only the .npmrc the harness writes into
		// .n8n/nodes sends it to the registry, instead of to registry.npmjs.org until a timeout.
		const before = packumentRequests();
		const [listed] = await n8n.communityPackages();
		expect(packumentRequests()).toBeGreaterThan(before);
		expect(listed.updateAvailable).toBeUndefined();
		expect(n8n.registry.refusedHosts).not.toContain('registry.npmjs.org:443');
	});

	test("the credential test passes through n8n's API with good keys and fails with bad ones", async () => {
		truvCredential = await createTestedStandInCredential(n8n, standIn);
	});

	test('activation registers exactly one Truv webhook, for every order event', async () => {
		routingWorkflowId = (
			await n8n.createWorkflow(
				routingWorkflow(
					routingWebhookId,
					{ id: truvCredential.id, name: truvCredential.name },
					httpSink.url,
				),
			)
		).id;
		expect((await n8n.activateWorkflow(routingWorkflowId)).active).toBe(true);
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		const webhooks = await truvWebhooks(standIn, 1);
		expect(
			webhooks.map(({ webhook_url, env_type, events, enabled }) => ({
				webhook_url,
				env_type,
				events,
				enabled,
			})),
		).toEqual([
			{
				webhook_url: routingUrl(),
				env_type: 'sandbox',
				events: ['order-created', 'order-status-updated', 'order-refresh-failed'],
				enabled: true,
			},
		]);
	});

	test('each order event, delivered once, runs its own output only', async () => {
		const sent: Array<Record<string, unknown>> = [];
		for (const [fixture, eventType] of ORDER_FIXTURES) {
			const event = freshEvent(fixture);
			expect(event.event_type).toBe(eventType);
			sent.push(event);
			// To every enabled webhook subscribed to the event, as Truv does: the routing one only.
			const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });
			expect(result.targets.map(({ url, attempts }) => [url, attempts[0].status])).toEqual([
				[routingUrl(), 200],
			]);
		}
		const executions = await routingExecutions(sent.length);
		const byWebhookId = new Map(
			executions.map((execution) => [triggerOutput(execution).json.webhook_id, execution]),
		);
		for (const event of sent) {
			const execution = byWebhookId.get(event.webhook_id);
			expect({ webhook_id: event.webhook_id, status: execution?.status }).toEqual({
				webhook_id: event.webhook_id,
				status: 'success',
			});
			const { output, json } = triggerOutput(execution!);
			expect(output).toBe(OUTPUT_INDEX[String(event.event_type)]);
			expect(json).toEqual(event);
		}
		const posted = await httpSink.waitFor(sent.length);
		for (const [eventType, count] of [
			['order-created', 1],
			['order-status-updated', 3],
			['order-refresh-failed', 1],
		] as const) {
			expect({
				eventType,
				posts: posted.filter(({ path }) => path === outputPath(routingWebhookId, eventType)).length,
			}).toEqual({ eventType, posts: count });
		}
		expect(httpSink.requests).toHaveLength(sent.length);
	});

	test('a duplicate delivery (the same webhook_id) is acknowledged and skipped', async () => {
		const before = (await n8n.executions({ workflowId: routingWorkflowId })).length;
		const event = freshEvent('order-status-updated-completed');
		const first = await deliverToRouting(event);
		const again = await deliverToRouting(event);
		expect(
			[first, again].map(({ status, responseBody }) => [
				status,
				JSON.parse(responseBody ?? '{}').outcome,
			]),
		).toEqual([
			[200, 'accepted'],
			[200, 'duplicate'],
		]);
		// A genuine delivery after them: once it has run, nothing else may have.
		expect((await deliverToRouting(freshEvent('order-created'))).status).toBe(200);
		const executions = await routingExecutions(before + 2);
		expect(
			executions.filter(
				(execution) => triggerOutput(execution).json.webhook_id === event.webhook_id,
			),
		).toHaveLength(1);

		// After a restart n8n's processed-data store knows it: its execution ends at the trigger.
		await n8n.restart();
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		const afterRestart = await deliverToRouting(event);
		expect(JSON.parse(afterRestart.responseBody ?? '{}').outcome).toBe('accepted');
		const [latest] = await routingExecutions(before + 3);
		expect(skippedAsProcessed(latest)).toBe(true);
	});

	test('deactivation removes the Truv webhook', async () => {
		expect((await n8n.deactivateWorkflow(routingWorkflowId)).active).toBe(false);
		expect(await truvWebhooks(standIn, 0)).toEqual([]);
	});

	test.each(exampleFiles)('example %s uses node types and versions n8n 1.123 has', async (file) => {
		const known = await n8n.nodeTypes();
		const lacking = exampleWorkflow(file)
			.nodes.map((node) => ({
				node: String(node.name),
				type: String(node.type),
				typeVersion: Number(node.typeVersion),
			}))
			.filter(({ type, typeVersion }) => !(known.get(type) ?? []).includes(typeVersion))
			.map((each) => ({ ...each, known: known.get(each.type) ?? 'no such type' }));
		expect(lacking).toEqual([]);
	});

	test("the shipped email example, published: a refresh failure emails the applicant's name, looked up with Truv: Get Order", async () => {
		const smtpCredential = await n8n.createCredential('smtp', 'SMTP sink', {
			host: '127.0.0.1',
			port: smtpSink.port,
			secure: false,
			disableStartTls: true,
			user: 'n8n',
			password: 'sink',
		});
		const example = exampleWorkflow(EMAIL_EXAMPLE, {
			credentials: {
				truvApi: { id: truvCredential.id, name: truvCredential.name },
				smtp: { id: smtpCredential.id, name: smtpCredential.name },
			},
		});
		const path = `${triggerWebhookId(example)}/webhook`;
		const workflow = await n8n.createWorkflow(example);
		expect((await n8n.activateWorkflow(workflow.id)).active).toBe(true);
		await n8n.waitForWebhook(path);
		expect(
			(await truvWebhooks(standIn, 1)).map(({ webhook_url, events }) => [webhook_url, events]),
		).toEqual([[n8n.webhookUrl(path), ['order-refresh-failed']]]);

		// An order "created in Truv's dashboard"; the event names its second employer.
		const order = standIn.addOrder({
			products: ['income'],
			order_number: `E2E-${VERSION}-1`,
			first_name: 'Ada',
			last_name: 'Lovelace',
			email: 'ada.lovelace@example.com',
			employers: [{ company_name: 'Analytical Engines Ltd' }, { company_name: 'Difference & Co' }],
		});
		const event = freshEvent('order-refresh-failed', {
			order_id: order.id,
			order_number: order.order_number,
			employer_id: order.employers[1].id,
			status: 'login_error',
		});
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });
		expect(result.targets.map(({ url, attempts }) => [url, attempts[0].status])).toEqual([
			[n8n.webhookUrl(path), 200],
		]);
		const [execution] = await n8n.waitForExecutions({ workflowId: workflow.id, count: 1 });
		expect(execution.status).toBe('success');
		expect(
			standIn.calls.filter(
				({ method, path: called }) => method === 'GET' && called === `/v1/orders/${order.id}/`,
			),
		).toHaveLength(1);

		const [email] = await smtpSink.waitFor(1);
		expect(email.to).toEqual(['verifications@example.com']);
		expect(email.headers.subject).toBe(
			`Truv refresh failed: Ada Lovelace, order ${order.order_number} (login_error)`,
		);
		for (const line of [
			'Applicant: Ada Lovelace',
			`Order number: ${order.order_number}`,
			'Employer: Difference & Co',
			'Status: login_error',
			`Order ID: ${order.id}`,
		]) {
			expect(email.text).toContain(line);
		}
		expect(smtpSink.messages).toHaveLength(1);

		await n8n.deactivateWorkflow(workflow.id);
		expect(await truvWebhooks(standIn, 0)).toEqual([]);
	});
});
