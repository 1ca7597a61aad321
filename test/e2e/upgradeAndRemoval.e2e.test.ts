// Updating and uninstalling the package as an admin does it in Settings → Community Nodes, with the
// three shipped examples active and the Truv API stand-in holding their webhooks. What n8n does
// differs between versions in places; `observed` says where, and the README's Upgrading and
// Removing notes repeat it.
import { execFile, execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import { mkdtemp, readFile, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { promisify } from 'util';

import {
	communityNodesFolder,
	packRepositoryAt,
	readTarballPackageJson,
} from '../../dev/n8n/communityPackage';
import { HttpError } from '../../dev/n8n/http';
import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import {
	startN8n,
	type CreatedCredential,
	type Execution,
	type ExecutionStatus,
	type N8nInstance,
	type WorkflowJson,
} from '../../dev/n8n/n8nInstance';
import { provisionN8n, type N8nVersion } from '../../dev/n8n/runtimes';
import { startSmtpSink, type SmtpSink } from '../../dev/n8n/smtpSink';
import { sleep, waitFor } from '../../dev/n8n/wait';
import { startTruvStandIn, type TruvStandIn } from '../../dev/truv-stand-in/truvStandIn';
import {
	exampleWorkflow,
	hasTruvTrigger,
	standInCredentialData,
	TRUV_TRIGGER_TYPE,
	TRUV_TRIGGER_VERSION,
	triggerWebhookId,
} from '../../dev/workflows/truvWorkflows';
import { fixtureJson } from '../helpers/fixtures';
import {
	e2eVersions,
	minutes,
	PACKAGE_NODE_TYPES,
	ranDelivery,
	skippedAsProcessed,
	triggerOutput,
	usePackedRepository,
} from './e2eSetup';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

const run = promisify(execFile);

/** An example workflow file as the earlier release shipped it. */
function earlierExample(file: string): WorkflowJson {
	const text = execFileSync('git', ['show', `${EARLIER_RELEASE_COMMIT}:examples/${file}`], {
		cwd: repoDir,
		encoding: 'utf8',
	});
	return JSON.parse(text) as WorkflowJson;
}
const repoDir = join(__dirname, '..', '..');

const PACKAGE_NAME = 'n8n-nodes-truv';
const HTTP_EXAMPLE = 'truv-order-completed-to-http.json';
const EMAIL_EXAMPLE = 'truv-refresh-failed-to-email.json';
const SLACK_EXAMPLE = 'truv-refresh-failed-to-slack.json';
/** The Truv samples each example subscribes to (by its events and order statuses). */
const SUBSCRIBERS = {
	'order-status-updated-completed': [HTTP_EXAMPLE],
	'order-refresh-failed': [EMAIL_EXAMPLE, SLACK_EXAMPLE],
} as const;
type Sample = keyof typeof SUBSCRIBERS;

const ACCEPTED = 'Delivery accepted';
const UNKNOWN_NODE_TYPE = `Unrecognized node type: ${TRUV_TRIGGER_TYPE}`;

interface Observed {
	/**
	 * Whether deliveries need a restart of n8n to run (on the new code) after Community Nodes →
	 * Update. Neither version does: n8n drops the package's modules from its require cache, loads
	 * the new ones, and looks the node type up again for every production webhook call.
	 */
	updateNeedsRestart: boolean;
	/** What a production webhook of the trigger answers while the package is uninstalled. */
	uninstalledStatus: number;
	/**
	 * Whether a workflow deleted while the package is uninstalled leaves its webhook path taken in
	 * n8n (2.8 cannot clear webhooks of a node it does not know; 2.41 clears them without it).
	 */
	deletedWorkflowKeepsItsPath: boolean;
}

const observed: Record<N8nVersion, Observed> = {
	'2.8.4': {
		updateNeedsRestart: false,
		uninstalledStatus: 500,
		deletedWorkflowKeepsItsPath: true,
	},
	'2.41.1': {
		updateNeedsRestart: false,
		uninstalledStatus: 400,
		deletedWorkflowKeepsItsPath: false,
	},
};

/** One release below `version`: 0.1.0 → 0.0.9, 1.2.3 → 1.2.2, 1.0.0 → 0.9.9. */
function versionBelow(version: string): string {
	const [major, minor, patch] = version.split('.').map(Number);
	if (patch > 0) return `${major}.${minor}.${patch - 1}`;
	if (minor > 0) return `${major}.${minor - 1}.9`;
	return `${major - 1}.9.9`;
}

/**
 * The last commit whose trigger kept its duplicate record in the workflow's static data: the
 * earlier release the update starts from, built from its own code.
 */
const EARLIER_RELEASE_COMMIT = '6ff6fb223e7b69b478b04212fafbb3b33e1cd42e';

// The examples Truv delivers to, as the earlier release shipped them: the hourly webhook check has
// no trigger and no Truv webhook, and examples added since are not in that release.
const exampleFiles = execFileSync(
	'git',
	['ls-tree', '--name-only', `${EARLIER_RELEASE_COMMIT}:examples`],
	{ cwd: repoDir, encoding: 'utf8' },
)
	.split('\n')
	.filter((file) => file.endsWith('.json') && hasTruvTrigger(earlierExample(file)));

/**
 * A packed build as the release before the current one: a lower version whose trigger words its
 * acceptance differently, so that an answer tells which of the two builds handled a delivery.
 */
async function packPreviousRelease(tarball: string, version: string): Promise<string> {
	const folder = await mkdtemp(join(tmpdir(), 'n8n-nodes-truv-previous-'));
	await run('tar', ['-xzf', tarball, '-C', folder]);
	const packageJsonFile = join(folder, 'package', 'package.json');
	const packageJson = JSON.parse(await readFile(packageJsonFile, 'utf8')) as object;
	await writeFile(packageJsonFile, `${JSON.stringify({ ...packageJson, version }, null, 2)}\n`);
	const handlerFile = join(folder, 'package/dist/nodes/TruvOrderTrigger/deliveryHandler.js');
	const handler = await readFile(handlerFile, 'utf8');
	const pieces = handler.split(`'${ACCEPTED}'`);
	if (pieces.length !== 2) throw new Error(`expected '${ACCEPTED}' once in ${handlerFile}`);
	await writeFile(handlerFile, pieces.join(`'${ACCEPTED} by ${version}'`));
	const previous = join(folder, `${PACKAGE_NAME}-${version}.tgz`);
	await run('tar', ['-czf', previous, '-C', folder, 'package']);
	return previous;
}

let serial = 0;
/** A Truv sample with a webhook_id of its own. */
function freshEvent(sample: Sample): Record<string, unknown> {
	serial += 1;
	return {
		...fixtureJson(sample),
		webhook_id: `upg${Date.now().toString(16)}${serial.toString(16).padStart(6, '0')}`,
	};
}

interface ActiveExample {
	file: string;
	workflowId: string;
	/** `<webhookId>/webhook`: the trigger's production path. */
	path: string;
	/** The webhook_ids of the deliveries this workflow has run, one entry per execution. */
	ran: string[];
	/** Executions of deliveries an earlier one processed: they end at the trigger. */
	endedAtTrigger: number;
	/** Executions that neither ran a delivery nor ended at the trigger (n8n mid-update). */
	otherExecutions: number;
}

interface Delivery {
	event: Record<string, unknown>;
	examples: readonly string[];
}

interface Answer {
	example: string;
	status: number | null;
	outcome?: string;
	message?: string;
}

const packedTarball = usePackedRepository();

describe.each(e2eVersions)('Upgrading and removing n8n-nodes-truv in n8n %s', (version) => {
	const behaviour = observed[version];
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let httpSink: HttpSink;
	let smtpSink: SmtpSink;
	let currentVersion: string;
	let previousVersion: string;
	let previousTarball: string;
	let credentials: Record<string, CreatedCredential>;
	const examples = new Map<string, ActiveExample>();
	/** Every delivery sent so far, to resend as Truv may. */
	const sent: Delivery[] = [];
	/** The Truv webhook of each example, sorted by URL: what the stand-in should hold. */
	let registered: Array<{ url: string; id: string }>;

	const example = (file: string): ActiveExample => {
		const found = examples.get(file);
		if (!found) throw new Error(`${file} was not created`);
		return found;
	};
	const urlOf = (file: string) => n8n.webhookUrl(example(file).path);
	/** Whether Community Nodes → Update has installed the current release. */
	let updated = false;

	/** Imports an example wired to the sinks, under a new webhook path when `webhookId` is given. */
	const importExample = async (file: string, webhookId?: string): Promise<ActiveExample> => {
		const workflow = exampleWorkflow(
			file,
			{
				credentials: Object.fromEntries(
					Object.entries(credentials).map(([type, { id, name }]) => [type, { id, name }]),
				),
				parameters: { 'Notify CRM': { url: `${httpSink.url}/crm/order-completed` } },
			},
			// Until the update, the examples as the earlier release shipped them (its node versions).
			updated ? undefined : earlierExample(file),
		);
		if (webhookId) {
			const trigger = workflow.nodes.find(({ type }) => type === TRUV_TRIGGER_TYPE);
			if (trigger) trigger.webhookId = webhookId;
		}
		const { id } = await n8n.createWorkflow(workflow);
		return {
			file,
			workflowId: id,
			path: `${triggerWebhookId(workflow)}/webhook`,
			ran: [],
			endedAtTrigger: 0,
			otherExecutions: 0,
		};
	};

	/** Imports an example and publishes it. */
	const publishExample = async (file: string, webhookId?: string) => {
		const imported = await importExample(file, webhookId);
		examples.set(file, imported);
		await n8n.activateWorkflow(imported.workflowId);
		await n8n.waitForWebhook(imported.path);
	};

	/**
	 * The stand-in's webhooks, by URL, once there are `count` of them: n8n 2.41 publishes and
	 * unpublishes in the background, after the API has answered.
	 */
	const truvWebhooks = async (count: number) =>
		await waitFor(
			() => {
				const webhooks = standIn.webhooks();
				if (webhooks.length !== count) throw new Error(`${webhooks.length} webhooks at Truv`);
				return webhooks
					.map(({ webhook_url, id }) => ({ url: webhook_url, id }))
					.sort((a, b) => a.url.localeCompare(b.url));
			},
			{ timeoutMs: 30_000, description: `${count} webhook(s) at Truv` },
		);

	/**
	 * The calls the stand-in received, once `call` is among them: n8n stores a webhook (so it
	 * answers on its path) before it runs the trigger's activation hooks that talk to Truv.
	 */
	const truvCallsIncluding = async (call: string) =>
		await waitFor(
			() => {
				const calls = standIn.calls.map(({ method, path }) => `${method} ${path}`);
				if (!calls.includes(call)) throw new Error(`no ${call} yet: ${calls.join(', ')}`);
				return calls;
			},
			{ timeoutMs: 30_000, description: call },
		);

	/** Delivers as Truv does, to every subscribed webhook, once; each example's answer. */
	const deliver = async ({ event }: Delivery): Promise<Answer[]> => {
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });
		const exampleAt = new Map([...examples.values()].map((each) => [urlOf(each.file), each.file]));
		return result.targets
			.map(({ url, attempts }) => {
				const { status, responseBody } = attempts[attempts.length - 1];
				let body: { outcome?: string; message?: string } = {};
				try {
					body = JSON.parse(responseBody) as typeof body;
				} catch {
					// An answer that is not JSON has neither.
				}
				return {
					example: exampleAt.get(url) ?? url,
					status,
					outcome: body.outcome,
					message: body.message,
				};
			})
			.sort((a, b) => a.example.localeCompare(b.example));
	};

	/**
	 * Sends `delivery` and expects every subscribed example to answer as `outcome` says: accepted
	 * (and run), a duplicate this process remembers (no execution), `processedBefore` (accepted;
	 * its execution finds it in n8n's store and ends at the trigger).
	 */
	const deliverExpecting = async (
		delivery: Delivery,
		outcome: 'accepted' | 'duplicate' | 'processedBefore',
		acceptedBy: string = currentVersion,
	) => {
		const webhookId = String(delivery.event.webhook_id);
		expect(await deliver(delivery)).toEqual(
			delivery.examples.map((file) => ({
				example: file,
				status: 200,
				outcome: outcome === 'duplicate' ? 'duplicate' : 'accepted',
				message:
					outcome === 'duplicate'
						? `Delivery ${webhookId} was already received; the workflow was not started again`
						: acceptedBy === currentVersion
							? ACCEPTED
							: `${ACCEPTED} by ${acceptedBy}`,
			})),
		);
		for (const file of delivery.examples) {
			if (outcome === 'accepted') example(file).ran.push(webhookId);
			if (outcome === 'processedBefore') example(file).endedAtTrigger += 1;
		}
	};

	const newDelivery = (sample: Sample): Delivery => {
		const delivery = { event: freshEvent(sample), examples: SUBSCRIBERS[sample] };
		sent.push(delivery);
		return delivery;
	};

	/**
	 * Each example has run exactly the deliveries recorded in `ran`, and has `endedAtTrigger`
	 * executions more that passed nothing on: deliveries answered `accepted` have stored their
	 * execution by then, and a duplicate stores none.
	 */
	const expectRuns = async (files: string[] = [...examples.keys()]) => {
		for (const file of files) {
			const { workflowId, ran, endedAtTrigger, otherExecutions } = example(file);
			const executions = await n8n.waitForExecutions({
				workflowId,
				count: ran.length + endedAtTrigger + otherExecutions,
				includeData: true,
			});
			const runs = executions.filter(ranDelivery);
			// Slack is out of reach (the harness's proxy refuses every host but the registry).
			const status: ExecutionStatus = file === SLACK_EXAMPLE ? 'error' : 'success';
			expect({
				file,
				executions: executions.length,
				ran: runs.map((execution) => String(triggerOutput(execution).json.webhook_id)).sort(),
				statuses: [...new Set(runs.map((execution) => execution.status))],
				endedAtTrigger: executions.filter(skippedAsProcessed).length,
			}).toEqual({
				file,
				executions: ran.length + endedAtTrigger + otherExecutions,
				ran: [...ran].sort(),
				statuses: ran.length > 0 ? [status] : [],
				endedAtTrigger,
			});
		}
	};

	beforeAll(async () => {
		await provisionN8n(version);
		currentVersion = (await readTarballPackageJson(packedTarball())).version;
		previousVersion = versionBelow(currentVersion);
		const earlierBuild = await packRepositoryAt(repoDir, EARLIER_RELEASE_COMMIT);
		previousTarball = await packPreviousRelease(earlierBuild, previousVersion);
		await rm(dirname(earlierBuild), { recursive: true, force: true });
		[standIn, httpSink, smtpSink] = await Promise.all([
			startTruvStandIn({ delivery: { retryDelayMs: 200, maxRetries: 0, timeoutMs: 10_000 } }),
			startHttpSink(),
			startSmtpSink(),
		]);
		// The CRM example gets the completed order from Truv (Truv: Get Order) and fails without it.
		// (The refresh-failure alerts go out without theirs.)
		const completed = fixtureJson('order-status-updated-completed');
		standIn.addOrder({
			id: String(completed.order_id),
			order_number: String(completed.order_number),
			products: ['income'],
			first_name: 'Upgrade',
			last_name: 'Applicant',
			employers: [{ company_name: 'Upgrade Employer' }],
		});
		// npm refuses to publish a version below the registry's highest without a tag: the
		// previous release goes first, the current one only when the admin updates.
		n8n = await startN8n({ version, tarballs: [previousTarball] });
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([standIn?.close(), httpSink?.close(), smtpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
		if (previousTarball) await rm(dirname(previousTarball), { recursive: true, force: true });
	}, minutes(3));

	test('the previous release runs the three examples, one Truv webhook each', async () => {
		expect(n8n.installedPackages).toEqual([
			expect.objectContaining({ packageName: PACKAGE_NAME, installedVersion: previousVersion }),
		]);
		const truv = await n8n.createCredential(
			'truvApi',
			'Truv (stand-in)',
			standInCredentialData(standIn),
		);
		const smtp = await n8n.createCredential('smtp', 'SMTP sink', {
			host: '127.0.0.1',
			port: smtpSink.port,
			secure: false,
			disableStartTls: true,
			user: 'n8n',
			password: 'sink',
		});
		const slack = await n8n.createCredential('slackApi', 'Slack (unreachable)', {
			accessToken: 'xoxb-unreachable',
		});
		credentials = { truvApi: truv, smtp, slackApi: slack };
		expect([...exampleFiles].sort()).toEqual([HTTP_EXAMPLE, EMAIL_EXAMPLE, SLACK_EXAMPLE].sort());
		for (const file of exampleFiles) await publishExample(file);

		registered = await truvWebhooks(exampleFiles.length);
		expect(registered.map(({ url }) => url)).toEqual(
			exampleFiles.map((file) => urlOf(file)).sort(),
		);

		const completed = newDelivery('order-status-updated-completed');
		const refreshFailed = newDelivery('order-refresh-failed');
		await deliverExpecting(completed, 'accepted', previousVersion);
		await deliverExpecting(refreshFailed, 'accepted', previousVersion);
		await expectRuns();
		const [crm] = await httpSink.waitFor(1);
		expect(crm.path).toBe('/crm/order-completed');
		expect(crm.json).toEqual(expect.objectContaining({ order_id: completed.event.order_id }));
		const [email] = await smtpSink.waitFor(1);
		expect(email.body).toContain(`Order number: ${String(refreshFailed.event.order_number)}`);
		const [slackRun] = await n8n.executions({
			workflowId: example(SLACK_EXAMPLE).workflowId,
			includeData: true,
		});
		expect(slackRun.data?.resultData.lastNodeExecuted).toBe('Post to Slack');
	});

	// An update loads the package's code afresh, which forgets what the trigger remembered in its
	// process; what the earlier release recorded in the workflow's static data is carried over into
	// n8n's processed-data store by the first execution after the update.
	test("Community Nodes → Update loads the new release for active workflows without a restart; replays of the earlier release's deliveries do not run, and those sent during the update run exactly once", async () => {
		const before = [...sent];
		await n8n.registry.publish(packedTarball());
		// Truv keeps delivering while the admin updates: what each delivery was answered.
		const duringUpdate: Array<{ delivery: Delivery; answers: Answer[] }> = [];
		let updating = true;
		const delivering = (async () => {
			while (updating) {
				const sample =
					duringUpdate.length % 2 === 0 ? 'order-refresh-failed' : 'order-status-updated-completed';
				const delivery = newDelivery(sample);
				duringUpdate.push({ delivery, answers: await deliver(delivery) });
				await sleep(200);
			}
		})();
		const afterUpdate = await n8n
			.updateCommunityPackage(PACKAGE_NAME, currentVersion)
			.finally(() => {
				updating = false;
			});
		await delivering;
		updated = true;
		expect(afterUpdate).toEqual(
			expect.objectContaining({ packageName: PACKAGE_NAME, installedVersion: currentVersion }),
		);
		expect(await n8n.communityPackages()).toEqual([
			expect.objectContaining({
				packageName: PACKAGE_NAME,
				installedVersion: currentVersion,
				installedNodes: expect.arrayContaining(
					PACKAGE_NODE_TYPES.map((node) => expect.objectContaining({ type: node.type })),
				),
			}),
		]);
		expect((await n8n.nodeTypes()).get(TRUV_TRIGGER_TYPE)).toEqual([TRUV_TRIGGER_VERSION]);
		const installedPackageJson = join(
			communityNodesFolder(n8n.userFolder),
			'node_modules',
			PACKAGE_NAME,
			'package.json',
		);
		expect(JSON.parse(readFileSync(installedPackageJson, 'utf8')).version).toBe(currentVersion);

		// Updating touches neither the workflows' activation nor their Truv webhooks.
		for (const { workflowId } of examples.values()) {
			expect((await n8n.getWorkflow(workflowId)).active).toBe(true);
		}
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);

		// Without a restart, new deliveries run once, on the new release (its own wording).
		const fresh = [
			newDelivery('order-status-updated-completed'),
			newDelivery('order-refresh-failed'),
		];
		const answers: Answer[][] = [];
		for (const delivery of fresh) answers.push(await deliver(delivery));
		expect({
			version,
			updateNeedsRestart: !answers.flat().every(({ outcome }) => outcome === 'accepted'),
		}).toEqual({ version, updateNeedsRestart: behaviour.updateNeedsRestart });
		expect(answers).toEqual(
			fresh.map(({ examples: files }) =>
				files.map((file) => ({
					example: file,
					status: 200,
					outcome: 'accepted',
					message: ACCEPTED,
				})),
			),
		);
		for (const { event, examples: files } of fresh) {
			for (const file of files) example(file).ran.push(String(event.webhook_id));
		}

		for (const delivery of before) {
			await deliverExpecting(delivery, 'processedBefore');
		}
		// From then on this process remembers them.
		for (const delivery of before) await deliverExpecting(delivery, 'duplicate');

		// Each delivery sent during the update, sent again as Truv does (a retry of one it was not
		// answered 2xx for, a copy of one it was): every one runs exactly once in each example.
		const answersDuringUpdate = duringUpdate.flatMap(({ answers }) => answers);
		console.log(
			`n8n ${version}: ${duringUpdate.length} deliveries during Community Nodes → Update, answered ${[
				...new Set(answersDuringUpdate.map(({ status, outcome }) => `${status} ${outcome}`)),
			]
				.map(
					(answer) =>
						`${answer} × ${answersDuringUpdate.filter(({ status, outcome }) => `${status} ${outcome}` === answer).length}`,
				)
				.join(', ')}`,
		);
		expect(duringUpdate.length).toBeGreaterThan(0);
		for (const { delivery } of duringUpdate) await deliver(delivery);
		const expectedRuns = (file: string) =>
			duringUpdate.filter(({ delivery }) => delivery.examples.includes(file)).length;
		for (const file of exampleFiles) {
			const { workflowId, ran, endedAtTrigger, otherExecutions } = example(file);
			const known = ran.length + endedAtTrigger + otherExecutions;
			const ids = new Set(
				duringUpdate
					.filter(({ delivery }) => delivery.examples.includes(file))
					.map(({ delivery }) => String(delivery.event.webhook_id)),
			);
			const runsOf = (executions: Execution[]) =>
				executions
					.filter(ranDelivery)
					.map((execution) => String(triggerOutput(execution).json.webhook_id))
					.filter((id) => ids.has(id));
			const executions = await waitFor(
				async () => {
					const all = await n8n.executions({ workflowId, includeData: true });
					const runs = runsOf(all);
					if (runs.length < expectedRuns(file) || all.some(({ status }) => status === 'running')) {
						throw new Error(`${runs.length} of ${expectedRuns(file)} ran`);
					}
					return all;
				},
				{
					timeoutMs: minutes(2),
					description: `${file}: the deliveries sent during the update ran`,
				},
			);
			expect({ file, runs: runsOf(executions).sort() }).toEqual({ file, runs: [...ids].sort() });
			// What this run leaves, for the tests after it.
			ran.push(...runsOf(executions));
			const skipped = executions.filter(skippedAsProcessed).length;
			example(file).endedAtTrigger = skipped;
			example(file).otherExecutions = executions.length - ran.length - skipped;
			expect(executions.length).toBeGreaterThanOrEqual(known + ids.size);
		}
		await expectRuns();
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
	});

	test('after a restart: the same Truv webhooks, new deliveries run once, replays do not run', async () => {
		await n8n.restart();
		for (const { path } of examples.values()) await n8n.waitForWebhook(path);
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);

		// The process that remembered them is gone: their executions find them in n8n's store.
		for (const delivery of [...sent]) {
			await deliverExpecting(delivery, 'processedBefore');
		}
		for (const delivery of [
			newDelivery('order-status-updated-completed'),
			newDelivery('order-refresh-failed'),
		]) {
			await deliverExpecting(delivery, 'accepted');
		}
		// Within one run of n8n every delivery is remembered, whatever the version saves.
		for (const delivery of sent) await deliverExpecting(delivery, 'duplicate');
		await expectRuns();
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
	});

	test(`uninstalling while the examples are active: n8n agrees, the workflows stay active, their Truv webhooks stay, deliveries get ${behaviour.uninstalledStatus}`, async () => {
		await n8n.uninstallCommunityPackage(PACKAGE_NAME);
		expect(await n8n.communityPackages()).toEqual([]);
		expect((await n8n.nodeTypes()).has(TRUV_TRIGGER_TYPE)).toBe(false);
		for (const { workflowId } of examples.values()) {
			expect((await n8n.getWorkflow(workflowId)).active).toBe(true);
		}
		for (const { file, path } of examples.values()) {
			const answer = await n8n.callWebhook(path, { body: {} });
			expect({
				file,
				status: answer.status,
				message: (answer.json as { message?: string } | undefined)?.message,
			}).toEqual({
				file,
				status: behaviour.uninstalledStatus,
				message: UNKNOWN_NODE_TYPE,
			});
		}
		// Truv keeps delivering there, and gets an error each time.
		const delivery = newDelivery('order-refresh-failed');
		expect(await deliver(delivery)).toEqual(
			delivery.examples.map((file) => ({
				example: file,
				status: behaviour.uninstalledStatus,
				message: UNKNOWN_NODE_TYPE,
			})),
		);
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
		await expectRuns();
	});

	test('with the package uninstalled, n8n cannot remove a Truv webhook: not by unpublishing, deleting or restarting', async () => {
		const http = example(HTTP_EXAMPLE);
		const slack = example(SLACK_EXAMPLE);
		/** Unpublishes; done (2.41 does it in the background) once n8n stops serving the URL. */
		const unpublish = async ({ workflowId, path }: ActiveExample) => {
			expect((await n8n.deactivateWorkflow(workflowId)).active).toBe(false);
			await waitFor(
				async () => ((await n8n.callWebhook(path, { body: {} })).status === 404 ? true : undefined),
				{ description: `n8n no longer serving ${path}` },
			);
		};
		await unpublish(http);
		// n8n 2.41 refuses to delete a published workflow, and the editor unpublishes first anyway.
		await unpublish(slack);
		await n8n.api('DELETE', `/workflows/${slack.workflowId}`);
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);

		// Restarting does not help: the example still published stays so, and still cannot run.
		await n8n.restart();
		expect((await n8n.getWorkflow(example(EMAIL_EXAMPLE).workflowId)).active).toBe(true);
		expect((await n8n.getWorkflow(http.workflowId)).active).toBe(false);
		expect((await n8n.callWebhook(example(EMAIL_EXAMPLE).path, { body: {} })).status).toBe(
			behaviour.uninstalledStatus,
		);
		expect((await n8n.callWebhook(http.path, { body: {} })).status).toBe(404);
		expect((await n8n.callWebhook(slack.path, { body: {} })).status).toBe(404);
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
	});

	test(`reinstalling recovers: the published example receives again, reactivating adopts its Truv webhook, ${behaviour.deletedWorkflowKeepsItsPath ? 'a deleted workflow keeps its path and its Truv webhook, which is deleted by hand (the documented clean-up) before the example is published under a new path' : 'a deleted workflow imported again adopts its Truv webhook by URL'}; unpublishing then removes them all`, async () => {
		const installed = await n8n.installCommunityPackage(PACKAGE_NAME, currentVersion);
		expect(installed).toEqual(
			expect.objectContaining({ packageName: PACKAGE_NAME, installedVersion: currentVersion }),
		);
		const email = example(EMAIL_EXAMPLE);
		await n8n.waitForWebhook(email.path);
		// Truv still delivers to the deleted Slack example's URL too; n8n answers it 404.
		const withOrphan = newDelivery('order-refresh-failed');
		expect(await deliver(withOrphan)).toEqual([
			{ example: EMAIL_EXAMPLE, status: 200, outcome: 'accepted', message: ACCEPTED },
			expect.objectContaining({ example: SLACK_EXAMPLE, status: 404 }),
		]);
		email.ran.push(String(withOrphan.event.webhook_id));
		await expectRuns([EMAIL_EXAMPLE]);

		// The deactivated example still records its Truv webhook and takes it back on activation:
		// checked by its id, none created.
		standIn.resetCalls();
		await n8n.activateWorkflow(example(HTTP_EXAMPLE).workflowId);
		await n8n.waitForWebhook(example(HTTP_EXAMPLE).path);
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
		const registration = registered.find(({ url }) => url === urlOf(HTTP_EXAMPLE))!;
		await truvCallsIncluding(`GET /v1/webhooks/${registration.id}/`);
		expect(standIn.calls.filter(({ method }) => method !== 'GET')).toEqual([]);

		const orphan = registered.find(({ url }) => url === urlOf(SLACK_EXAMPLE))!;
		// The deleted workflow imported again as it was exported from n8n, with its webhook id
		// (the shipped examples carry none, so each import of them gets a path of its own).
		const deletedWebhookId = example(SLACK_EXAMPLE).path.replace(/\/webhook$/, '');
		if (behaviour.deletedWorkflowKeepsItsPath) {
			// n8n kept the deleted workflow's webhook row (a restart does not clear it either), so the
			// same workflow cannot be published again and nothing in n8n reaches its Truv webhook.
			const reimported = await importExample(SLACK_EXAMPLE, deletedWebhookId);
			const refusal = await n8n
				.activateWorkflow(reimported.workflowId)
				.catch((error: unknown) => error);
			expect(refusal).toBeInstanceOf(HttpError);
			expect({
				status: (refusal as HttpError).response.status,
				message: ((refusal as HttpError).response.json as { message?: string }).message,
			}).toEqual({ status: 400, message: 'There is a conflict with one of the webhooks.' });
			expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
			// Clean-up: delete that webhook in Truv's dashboard; publish the example under a new path.
			expect(standIn.removeWebhook(orphan.id)).toBe(true);
			await n8n.api('DELETE', `/workflows/${reimported.workflowId}`);
			await publishExample(SLACK_EXAMPLE, randomUUID());
			const replacement = (await truvWebhooks(exampleFiles.length)).find(
				({ url }) => url === urlOf(SLACK_EXAMPLE),
			);
			expect(replacement).toEqual({ url: urlOf(SLACK_EXAMPLE), id: expect.any(String) });
			registered = [...registered.filter(({ id }) => id !== orphan.id), replacement!].sort((a, b) =>
				a.url.localeCompare(b.url),
			);
		} else {
			// Imported again, the deleted example has the same URL, and its trigger finds the Truv
			// webhook by that URL (it has no record of it): adopted, none created.
			standIn.resetCalls();
			await publishExample(SLACK_EXAMPLE, deletedWebhookId);
			expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
			await truvCallsIncluding('GET /v1/webhooks/');
			expect(standIn.calls.filter(({ method }) => method !== 'GET')).toEqual([]);
		}

		for (const delivery of [
			newDelivery('order-status-updated-completed'),
			newDelivery('order-refresh-failed'),
		]) {
			await deliverExpecting(delivery, 'accepted');
			await deliverExpecting(delivery, 'duplicate');
		}
		await expectRuns();

		await n8n.restart();
		for (const { path } of examples.values()) await n8n.waitForWebhook(path);
		expect(await truvWebhooks(exampleFiles.length)).toEqual(registered);
		const afterRestart = newDelivery('order-refresh-failed');
		await deliverExpecting(afterRestart, 'accepted');
		await deliverExpecting(afterRestart, 'duplicate');
		await expectRuns();

		for (const { workflowId } of examples.values()) await n8n.deactivateWorkflow(workflowId);
		expect(await truvWebhooks(0)).toEqual([]);
	});
});
