// The packed package in real n8n on PostgreSQL, which holds n8n to its column types where SQLite
// does not: n8n 2.8 keeps a package's node versions in an INTEGER column, which is why the
// trigger's node version is a whole number. Every n8n version gets a new database on one
// throwaway server.
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import { mkdtemp, readFile, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { promisify } from 'util';

import { HttpError } from '../../dev/n8n/http';
import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import { startN8n, type CreatedCredential, type N8nInstance } from '../../dev/n8n/n8nInstance';
import { startPostgres, type PostgresServer } from '../../dev/n8n/postgresServer';
import { provisionN8n } from '../../dev/n8n/runtimes';
import { startTruvStandIn, type TruvStandIn } from '../../dev/truv-stand-in/truvStandIn';
import { deliveryKey } from '../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { TruvOrderTrigger } from '../../nodes/TruvOrderTrigger/TruvOrderTrigger.node';
import {
	outputPath,
	routingWorkflow,
	TRUV_TRIGGER_TYPE,
	TRUV_TRIGGER_VERSION,
} from '../../dev/workflows/truvWorkflows';
import {
	createTestedStandInCredential,
	e2eVersions,
	exactlyExecutions,
	freshEvent,
	installedNodeTypes,
	minutes,
	ORDER_FIXTURES,
	OUTPUT_INDEX,
	PACKAGE_NODE_TYPES,
	ranDelivery,
	skippedAsProcessed,
	triggerOutput,
	truvWebhooks,
	usePackedRepository,
} from './e2eSetup';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

const execFileAsync = promisify(execFile);

const packageJson = JSON.parse(
	readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
) as { name: string; version: string };

const TRIGGER_DISPLAY_NAME = new TruvOrderTrigger().description.displayName;
const TRIGGER_FILE = 'package/dist/nodes/TruvOrderTrigger/TruvOrderTrigger.node.js';
const CODEX_FILE = 'package/dist/nodes/TruvOrderTrigger/TruvOrderTrigger.node.json';

/** Replaces the one occurrence of `from` in `file`; more or none means the build changed. */
async function replaceOnce(file: string, from: string, to: string): Promise<void> {
	const text = await readFile(file, 'utf8');
	if (text.split(from).length !== 2) {
		throw new Error(`${file} does not hold "${from}" exactly once`);
	}
	await writeFile(file, text.replace(from, to));
}

/**
 * The packed package as another package, `name`, whose trigger is at node version `nodeVersion`,
 * repacked as npm would; the caller removes the tarball's folder. The name keeps n8n's
 * `n8n-nodes-` prefix (n8n's installer refuses other names before reaching the database), and the
 * trigger gets a display name of its own: n8n's installed_nodes table is keyed by display name
 * (its migrations, whatever the entity says), so a second "Truv Order Trigger" would fail on
 * that key instead of the version.
 */
async function variantTarball(tarball: string, name: string, nodeVersion: number): Promise<string> {
	const folder = await mkdtemp(join(tmpdir(), 'n8n-nodes-variant-'));
	await execFileAsync('tar', ['-xzf', tarball, '-C', folder]);

	const triggerFile = join(folder, TRIGGER_FILE);
	await replaceOnce(triggerFile, `version: ${TRUV_TRIGGER_VERSION},`, `version: ${nodeVersion},`);
	await replaceOnce(
		triggerFile,
		`displayName: '${TRIGGER_DISPLAY_NAME}',`,
		`displayName: '${TRIGGER_DISPLAY_NAME} ${nodeVersion}',`,
	);
	// Only the trigger: the package's other nodes would collide on their display names too.
	const manifestFile = join(folder, 'package', 'package.json');
	const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
		name: string;
		n8n: { nodes: string[] };
	};
	const nodes = manifest.n8n.nodes.filter((node) => node.endsWith('TruvOrderTrigger.node.js'));
	await writeFile(
		manifestFile,
		JSON.stringify({ ...manifest, name, n8n: { ...manifest.n8n, nodes } }, null, 2),
	);
	// The codex names the node type, which n8n derives from the package name.
	await replaceOnce(join(folder, CODEX_FILE), `"${manifest.name}.`, `"${name}.`);

	const variant = join(folder, `${name}-${packageJson.version}.tgz`);
	await execFileAsync('tar', ['-czf', variant, '-C', folder, 'package']);
	return variant;
}

/** A value for inlining into SQL; n8n's ids and Truv's webhook ids are alphanumeric. */
function sqlText(value: unknown): string {
	const text = String(value);
	if (!/^[\w.-]+$/.test(text)) throw new Error(`refusing to inline ${JSON.stringify(text)}`);
	return `'${text}'`;
}

const packedTarball = usePackedRepository();

let postgres: PostgresServer;

beforeAll(async () => {
	postgres = await startPostgres();
}, minutes(3));

afterAll(async () => {
	await postgres?.stop();
}, minutes(2));

describe.each(e2eVersions)('Truv Order Trigger in n8n %s on PostgreSQL', (version) => {
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let httpSink: HttpSink;
	let truvCredential: CreatedCredential;
	let routingWorkflowId: string;
	const routingWebhookId = `truv-postgres-${version.replace(/\./g, '-')}`;
	const routingUrl = () => n8n.webhookUrl(`${routingWebhookId}/webhook`);

	/** psql's rows (`|`-separated columns) from n8n's database. */
	const rows = async (sql: string): Promise<string[]> => {
		const output = await postgres.query(n8n.database, sql);
		return output === '' ? [] : output.split('\n');
	};

	/** Delivers straight to the routing workflow's URL, once, as Truv would. */
	const deliverToRouting = async (event: Record<string, unknown>) => {
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
			url: routingUrl(),
			maxRetries: 0,
		});
		const attempt = result.attempts[result.attempts.length - 1];
		return {
			status: attempt.status,
			outcome: (JSON.parse(attempt.responseBody ?? '{}') as { outcome?: string }).outcome,
		};
	};

	const routingCount = async () => (await n8n.executions({ workflowId: routingWorkflowId })).length;

	/** Waits for exactly `count` executions of the routing workflow (a later one fails the test). */
	const routingExecutions = async (count: number) =>
		await exactlyExecutions(n8n, routingWorkflowId, count);

	beforeAll(async () => {
		await provisionN8n(version);
		[standIn, httpSink] = await Promise.all([
			startTruvStandIn({ delivery: { retryDelayMs: 200, maxRetries: 3, timeoutMs: 10_000 } }),
			startHttpSink(),
		]);
		n8n = await startN8n({ version, tarballs: [packedTarball()], postgres });
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([standIn?.close(), httpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test("runs on PostgreSQL, with the package installed through n8n's installer at node version 2", async () => {
		expect(n8n.database).not.toBe('sqlite');
		const tables = await rows(
			"SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
		);
		expect(tables).toEqual(
			expect.arrayContaining([
				'credentials_entity',
				'execution_entity',
				'installed_nodes',
				'installed_packages',
				'migrations',
				'webhook_entity',
				'workflow_entity',
			]),
		);
		expect(existsSync(join(n8n.userFolder, '.n8n', 'database.sqlite'))).toBe(false);

		const { name, version: packageVersion } = packageJson;
		expect(n8n.registry.requests).toEqual(
			expect.arrayContaining([
				expect.stringMatching(new RegExp(`^GET /${name}(/${packageVersion})?$`)),
				`GET /${name}/-/${name}-${packageVersion}.tgz`,
			]),
		);
		const listed = await n8n.communityPackages();
		expect(listed).toEqual([
			expect.objectContaining({ packageName: name, installedVersion: packageVersion }),
		]);
		expect(installedNodeTypes(listed[0])).toEqual(PACKAGE_NODE_TYPES);
		expect((await n8n.nodeTypes()).get(TRUV_TRIGGER_TYPE)).toEqual([2]);
		expect(await n8n.credentialTypes()).toContain('truvApi');

		expect(await rows('SELECT "packageName", "installedVersion" FROM installed_packages')).toEqual([
			`${name}|${packageVersion}`,
		]);
		expect(
			await rows('SELECT type, "latestVersion", package FROM installed_nodes ORDER BY type'),
		).toEqual(
			PACKAGE_NODE_TYPES.map(({ type, latestVersion }) => `${type}|${latestVersion}|${name}`),
		);
		// The column that makes the node version matter: 2.41 migrated it to double precision.
		expect(
			await rows(
				"SELECT data_type FROM information_schema.columns WHERE table_name = 'installed_nodes' AND column_name = 'latestVersion'",
			),
		).toEqual([version === '2.8.4' ? 'integer' : 'double precision']);
	});

	test("the credential test passes through n8n's API with good keys and fails with bad ones", async () => {
		truvCredential = await createTestedStandInCredential(n8n, standIn);
		expect(
			await rows(`SELECT type FROM credentials_entity WHERE id = ${sqlText(truvCredential.id)}`),
		).toEqual(['truvApi']);
	});

	test('activation registers exactly one Truv webhook for the routing workflow', async () => {
		routingWorkflowId = (
			await n8n.createWorkflow(
				routingWorkflow(
					routingWebhookId,
					{ id: truvCredential.id, name: truvCredential.name },
					httpSink.url,
				),
			)
		).id;
		await n8n.activateWorkflow(routingWorkflowId);
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		const registered = (await truvWebhooks(standIn, 1)).map(
			({ webhook_url, env_type, events, enabled }) => ({ webhook_url, env_type, events, enabled }),
		);
		expect(registered).toEqual([
			{
				webhook_url: routingUrl(),
				env_type: 'sandbox',
				events: ['order-created', 'order-status-updated', 'order-refresh-failed'],
				enabled: true,
			},
		]);
		expect(
			await rows(
				`SELECT method FROM webhook_entity WHERE "workflowId" = ${sqlText(routingWorkflowId)}`,
			),
		).toEqual(['POST']);
	});

	test('each order event runs its own branch, with the event as its item', async () => {
		const sent: Array<Record<string, unknown>> = [];
		for (const [fixture] of ORDER_FIXTURES) {
			const event = freshEvent(fixture);
			sent.push(event);
			expect(await deliverToRouting(event)).toEqual({ status: 200, outcome: 'accepted' });
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
		expect(posted.map((request) => request.path).sort((a, b) => a.localeCompare(b))).toEqual(
			sent
				.map((event) => outputPath(routingWebhookId, String(event.event_type)))
				.sort((a, b) => a.localeCompare(b)),
		);
		// The executions n8n lists are the ones it stored in PostgreSQL.
		expect(
			await rows(
				`SELECT count(*) FROM execution_entity WHERE "workflowId" = ${sqlText(routingWorkflowId)}`,
			),
		).toEqual([String(sent.length)]);
	});

	let duplicated: Record<string, unknown>;

	test('a duplicate delivery is acknowledged and does not run again; the record is in PostgreSQL', async () => {
		const before = await routingCount();
		duplicated = freshEvent('order-status-updated-completed');
		expect(await deliverToRouting(duplicated)).toEqual({ status: 200, outcome: 'accepted' });
		expect(await deliverToRouting(duplicated)).toEqual({ status: 200, outcome: 'duplicate' });
		// A genuine delivery after it: once it has run, nothing else may have.
		expect(await deliverToRouting(freshEvent('order-created'))).toEqual({
			status: 200,
			outcome: 'accepted',
		});
		const executions = await routingExecutions(before + 2);
		expect(
			executions.filter(
				(execution) => triggerOutput(execution).json.webhook_id === duplicated.webhook_id,
			),
		).toHaveLength(1);
		// The execution recorded it in n8n's processed-data store: what a restart, or another
		// process, reads back.
		const entry = createHash('md5')
			.update(deliveryKey(String(duplicated.webhook_id)))
			.digest('base64');
		const [stored] = await rows(
			`SELECT value::text FROM processed_data WHERE "workflowId" = ${sqlText(routingWorkflowId)}`,
		);
		expect(stored).toContain(entry);
	});

	/** Makes PostgreSQL take `seconds` over every new execution, then refuse it or store it. */
	async function slowExecutionStore(seconds: number, then: 'refuse' | 'store') {
		const outcome =
			then === 'refuse'
				? "RAISE EXCEPTION 'could not extend file: No space left on device';"
				: 'RETURN NEW;';
		await postgres.query(
			n8n.database,
			`CREATE FUNCTION truv_e2e_store_execution() RETURNS trigger AS $$
				BEGIN PERFORM pg_sleep(${seconds}); ${outcome} END
			$$ LANGUAGE plpgsql;
			CREATE TRIGGER truv_e2e_store_execution BEFORE INSERT ON execution_entity
				FOR EACH ROW EXECUTE FUNCTION truv_e2e_store_execution();`,
		);
		return async () =>
			await postgres.query(
				n8n.database,
				`DROP TRIGGER truv_e2e_store_execution ON execution_entity;
				DROP FUNCTION truv_e2e_store_execution();`,
			);
	}

	/**
	 * Delivers `body` once, as Truv would, while PostgreSQL takes `seconds` over every new execution
	 * and then refuses or stores it; the slow store stays in place `holdMs` after Truv's answer.
	 */
	const deliverWhileStoring = async (
		body: Buffer,
		store: { seconds: number; then: 'refuse' | 'store'; holdMs?: number },
		deliver: { timeoutMs?: number } = {},
	) => {
		const restore = await slowExecutionStore(store.seconds, store.then);
		try {
			const result = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0, ...deliver });
			if (store.holdMs) await new Promise((resolve) => setTimeout(resolve, store.holdMs));
			return result;
		} finally {
			await restore();
		}
	};

	/** The status and outcome of each delivery's single attempt. */
	const answersOf = (
		results: Array<{ attempts: Array<{ status: number | null; responseBody?: string }> }>,
	) =>
		results.map(({ attempts }) => {
			const [attempt] = attempts;
			return [attempt.status, JSON.parse(attempt.responseBody ?? '{}').outcome];
		});

	test('a delivery whose execution PostgreSQL refused to store gets an error, and runs once when Truv sends it again', async () => {
		const before = await routingCount();
		const event = freshEvent('order-refresh-failed');
		const body = Buffer.from(JSON.stringify(event));
		// For a moment the database refuses every new execution, as a full disk would.
		const refused = await deliverWhileStoring(body, { seconds: 0, then: 'refuse' });
		expect(refused.attempts.map((attempt) => attempt.status)).toEqual([500]);
		// Truv's retry of the same signed bytes, then one more copy.
		const retried = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0 });
		const copy = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0 });
		expect(answersOf([retried, copy])).toEqual([
			[200, 'accepted'],
			[200, 'duplicate'],
		]);
		const executions = await routingExecutions(before + 1);
		expect(
			executions.filter(
				(execution) => triggerOutput(execution).json.webhook_id === event.webhook_id,
			),
		).toHaveLength(1);
	});

	test('Truv gives up waiting while PostgreSQL is slow to store, which then refuses: the retry runs once', async () => {
		const before = await routingCount();
		const event = freshEvent('order-created');
		const body = Buffer.from(JSON.stringify(event));
		// Truv closes the connection before n8n answers (10 s in production; 1 s here).
		const gaveUp = await deliverWhileStoring(
			body,
			{ seconds: 4, then: 'refuse', holdMs: 5_000 },
			{ timeoutMs: 1_000 },
		);
		expect(gaveUp.attempts.map((attempt) => attempt.status)).toEqual([null]);
		const retried = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0 });
		const copy = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0 });
		expect(answersOf([retried, copy])).toEqual([
			[200, 'accepted'],
			[200, 'duplicate'],
		]);
		const executions = await routingExecutions(before + 1);
		expect(triggerOutput(executions[0]).json.webhook_id).toBe(event.webhook_id);
	});

	test('Truv gives up waiting while PostgreSQL is slow to store, which then stores: the retry does not run again', async () => {
		const before = await routingCount();
		const event = freshEvent('order-created');
		const body = Buffer.from(JSON.stringify(event));
		const gaveUp = await deliverWhileStoring(
			body,
			{ seconds: 3, then: 'store' },
			{ timeoutMs: 1_000 },
		);
		expect(gaveUp.attempts.map((attempt) => attempt.status)).toEqual([null]);
		await routingExecutions(before + 1);
		// Truv saw no answer and sends it again: n8n stores an execution, which ends at the trigger.
		const retried = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0 });
		expect(answersOf([retried])).toEqual([[200, 'accepted']]);
		const executions = await routingExecutions(before + 2);
		expect(
			executions
				.filter(ranDelivery)
				.filter((execution) => triggerOutput(execution).json.webhook_id === event.webhook_id),
		).toHaveLength(1);
		expect(executions.filter(skippedAsProcessed)).toHaveLength(1);
	});

	test("n8n refuses to store a delivery and restarts: Truv's retry runs, once", async () => {
		const before = await routingCount();
		const event = freshEvent('order-status-updated-completed');
		const body = Buffer.from(JSON.stringify(event));
		const refused = await deliverWhileStoring(body, { seconds: 0, then: 'refuse' });
		expect(refused.attempts.map((attempt) => attempt.status)).toEqual([500]);
		await n8n.restart();
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		const retried = await standIn.deliver(body, { url: routingUrl(), maxRetries: 0 });
		expect(answersOf([retried])).toEqual([[200, 'accepted']]);
		const [latest] = await routingExecutions(before + 1);
		expect(triggerOutput(latest).json.webhook_id).toBe(event.webhook_id);
	});

	test('after a restart of n8n there is still exactly one Truv webhook and deliveries run', async () => {
		const before = await routingCount();
		await n8n.restart();
		await n8n.waitForWebhook(`${routingWebhookId}/webhook`);
		expect((await truvWebhooks(standIn, 1)).map((webhook) => webhook.webhook_url)).toEqual([
			routingUrl(),
		]);
		// The process that remembered it is gone: its execution finds it in PostgreSQL, and ends there.
		expect(await deliverToRouting(duplicated)).toEqual({ status: 200, outcome: 'accepted' });
		const [skipped] = await routingExecutions(before + 1);
		expect(skippedAsProcessed(skipped)).toBe(true);
		const event = freshEvent('order-refresh-failed');
		// To every enabled webhook subscribed to the event, as Truv does: the one registered.
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });
		expect(result.attempts.map((attempt) => attempt.status)).toEqual([200]);
		const [latest] = await routingExecutions(before + 2);
		expect(latest.status).toBe('success');
		expect(triggerOutput(latest)).toEqual({
			output: OUTPUT_INDEX['order-refresh-failed'],
			json: event,
		});
		expect(standIn.webhooks()).toHaveLength(1);
	});

	test('the same package with its trigger at node version 1.1 installs only where the column allows it', async () => {
		const variantName = `${packageJson.name}-v11`;
		const variantType = TRUV_TRIGGER_TYPE.replace(`${packageJson.name}.`, `${variantName}.`);
		const variant = await variantTarball(packedTarball(), variantName, 1.1);
		try {
			await n8n.registry.publish(variant);
			const installing = n8n.installCommunityPackage(variantName, packageJson.version);
			if (version === '2.8.4') {
				const error = await installing.then(
					() => undefined,
					(failure: unknown) => failure,
				);
				expect(error).toBeInstanceOf(HttpError);
				const { response } = error as HttpError;
				expect(response.status).toBe(500);
				expect((response.json as { message?: string }).message).toBe(
					`Error loading package "${variantName}" :Failed to save installed package\n` +
						'Cause: invalid input syntax for type integer: "1.1"',
				);
				// n8n saves the package and its nodes in one transaction: nothing of it was kept.
				expect(
					await rows(
						`SELECT "packageName" FROM installed_packages WHERE "packageName" = ${sqlText(variantName)}`,
					),
				).toEqual([]);
				expect(
					await rows(`SELECT type FROM installed_nodes WHERE type = ${sqlText(variantType)}`),
				).toEqual([]);
				expect((await n8n.communityPackages()).map((each) => each.packageName)).toEqual([
					packageJson.name,
				]);
				// n8n 2.8 removes a package it could not load, but not one it could not save: it stays
				// in the nodes folder and its package.json, unlisted.
				const nodesFolder = join(n8n.userFolder, '.n8n', 'nodes');
				expect(existsSync(join(nodesFolder, 'node_modules', variantName))).toBe(true);
				expect(
					JSON.parse(readFileSync(join(nodesFolder, 'package.json'), 'utf8')).dependencies,
				).toEqual(expect.objectContaining({ [variantName]: packageJson.version }));
			} else {
				const installed = await installing;
				expect(installed).toEqual(
					expect.objectContaining({
						packageName: variantName,
						installedNodes: [expect.objectContaining({ type: variantType, latestVersion: 1.1 })],
					}),
				);
				expect(
					await rows(
						`SELECT "latestVersion" FROM installed_nodes WHERE type = ${sqlText(variantType)}`,
					),
				).toEqual(['1.1']);
				expect((await n8n.nodeTypes()).get(variantType)).toEqual([1.1]);
				await n8n.uninstallCommunityPackage(variantName);
				expect((await n8n.nodeTypes()).has(variantType)).toBe(false);
				// The variant brought the same credential type; the real package still provides it.
				expect(await n8n.credentialTypes()).toContain('truvApi');
				expect(
					await rows(
						`SELECT "packageName" FROM installed_packages WHERE "packageName" = ${sqlText(variantName)}`,
					),
				).toEqual([]);
			}
			// The real package is untouched either way.
			expect(
				await rows(
					`SELECT type, "latestVersion" FROM installed_nodes WHERE package = ${sqlText(packageJson.name)} ORDER BY type`,
				),
			).toEqual(PACKAGE_NODE_TYPES.map(({ type, latestVersion }) => `${type}|${latestVersion}`));
		} finally {
			await rm(dirname(variant), { recursive: true, force: true });
		}
	});
});
