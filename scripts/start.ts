// npm start: a real n8n with this package installed as a community package, the example workflows
// imported and active, a local Truv API stand-in (or Truv's real API) holding a sample order, a mail
// catcher, an HTTP sink and a Slack catcher (n8n's Slack node reaches https://slack.com through the
// harness's proxy, which answers it locally). Ctrl-C stops everything it started.
//
//   npm start -- [--n8n 2.41.1|2.8.4] [--port 5678] [--keep]
//
// --keep reuses the previous run's n8n data (workflows, credentials, executions) instead of
// starting afresh. With TRUV_CLIENT_ID and TRUV_ACCESS_SECRET set (and WEBHOOK_URL, the public
// https address of this n8n), the trigger talks to Truv's real API instead of the stand-in.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { rm } from 'fs/promises';
import { dirname, join } from 'path';
import { parseArgs } from 'util';

import { startHttpSink } from '../dev/n8n/httpSink';
import { startN8n, type N8nInstance } from '../dev/n8n/n8nInstance';
import { startPackageRegistry } from '../dev/n8n/packageRegistry';
import { startSmtpSink } from '../dev/n8n/smtpSink';
import { sleep } from '../dev/n8n/wait';
import {
	exampleFiles,
	exampleWorkflow,
	hasTruvTrigger,
	slackApiResponder,
	slackMessages,
	triggerWebhookId,
} from '../dev/workflows/truvWorkflows';
import {
	readTruvFixture,
	startTruvStandIn,
	type TruvOrder,
	type TruvStandIn,
} from '../dev/truv-stand-in/truvStandIn';
import { packRepository } from '../dev/n8n/communityPackage';
import {
	cacheRoot,
	defaultN8nVersion,
	n8nRuntimes,
	provisionN8n,
	type N8nVersion,
} from '../dev/n8n/runtimes';
import { devStateFile, type DevState } from './lib/devState';

const repositoryRoot = join(__dirname, '..');
// Each reaches an example: a refresh failure (email and Slack), a completed order (the CRM, the
// report's PDF by email, the report's income to the CRM), an expired one (filtered out).
const SAMPLE_EVENTS = [
	'order-refresh-failed',
	'order-status-updated-completed',
	'order-status-updated-expired',
];

function say(message: string): void {
	process.stdout.write(`${message}\n`);
}

/**
 * The order Truv's samples are about, "created in Truv's dashboard", so that Truv: Get Order finds
 * a name and an employer for them: it has the samples' order number, which send-event matches to
 * point a sample at this order's id and employer.
 */
function seedSampleOrder(standIn: TruvStandIn): TruvOrder {
	const sample = JSON.parse(readTruvFixture('order-refresh-failed').toString('utf8')) as {
		order_number: string;
	};
	const order = standIn.addOrder({
		order_number: sample.order_number,
		products: ['income'],
		first_name: 'Jane',
		last_name: 'Doe',
		email: 'jane.doe@example.com',
		employers: [{ company_name: 'Acme Corporation' }],
	});
	// Connected and completed, as an order whose refresh can fail is.
	return standIn.setSuborderStatus(order.id, 'completed');
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			n8n: { type: 'string', default: defaultN8nVersion },
			port: { type: 'string', default: '5678' },
			keep: { type: 'boolean', default: false },
		},
	});
	const version = values.n8n as N8nVersion;
	if (!(version in n8nRuntimes)) {
		throw new Error(`--n8n must be one of ${Object.keys(n8nRuntimes).join(', ')}`);
	}
	const port = Number(values.port);
	const realTruv = Boolean(process.env.TRUV_CLIENT_ID && process.env.TRUV_ACCESS_SECRET);
	const publicUrl = process.env.WEBHOOK_URL;
	if (realTruv && !publicUrl) {
		throw new Error(
			"TRUV_CLIENT_ID and TRUV_ACCESS_SECRET are set, so Truv's real API will be used: Truv must reach this n8n, so also set WEBHOOK_URL to its public https address (for example a tunnel to 127.0.0.1:" +
				port +
				').',
		);
	}
	// The n8n data lives in the cache folder: inside the clone, the package would resolve the
	// repository's own devDependencies instead of n8n's modules.
	const userFolder = join(cacheRoot, 'dev', version);
	const kept = values.keep && existsSync(userFolder);
	if (!kept) rmSync(userFolder, { recursive: true, force: true });
	mkdirSync(userFolder, { recursive: true });

	say('[1/4] Building and packing n8n-nodes-truv …');
	const tarball = await packRepository(repositoryRoot);
	say(`[2/4] Provisioning n8n ${version} (first run only: downloads n8n, a few minutes) …`);
	await provisionN8n(version);

	say('[3/4] Starting the local services …');
	// Fixed ports next to n8n's, so that a kept n8n finds them where its credentials point.
	const standIn: TruvStandIn | undefined = realTruv
		? undefined
		: await startTruvStandIn({ port: port + 1000, delivery: { retryDelayMs: 5_000 } });
	const sampleOrder = standIn && seedSampleOrder(standIn);
	const smtpSink = await startSmtpSink();
	const httpSink = await startHttpSink();
	const slackSink = await startHttpSink(slackApiResponder);
	const registry = await startPackageRegistry({ interceptedHosts: { 'slack.com': slackSink.url } });

	say(`[4/4] Starting n8n ${version} with the package installed …`);
	const n8n = await startN8n({
		version,
		userFolder,
		port,
		tarballs: [tarball],
		registry,
		env: publicUrl ? { WEBHOOK_URL: publicUrl, N8N_WEBHOOK_URL: publicUrl } : {},
	});
	await rm(dirname(tarball), { recursive: true, force: true });

	const webhookUrls: Record<string, string> = {};
	if (!kept) {
		const truv = await n8n.createCredential(
			'truvApi',
			realTruv ? 'Truv API' : 'Truv API (local stand-in)',
			{
				clientId: process.env.TRUV_CLIENT_ID ?? standIn!.account.clientId,
				accessSecret: process.env.TRUV_ACCESS_SECRET ?? standIn!.account.secrets.sandbox,
				environment: 'fromSecret',
				secondaryAccessSecret: '',
				baseUrl: realTruv ? 'https://prod.truv.com' : standIn!.url,
			},
		);
		const smtp = await n8n.createCredential('smtp', 'Local mail catcher', {
			host: '127.0.0.1',
			port: smtpSink.port,
			secure: false,
			disableStartTls: true,
			user: 'n8n',
			password: 'local',
		});
		// Any token will do: the Slack catcher answers for slack.com whatever it is.
		const slack = await n8n.createCredential('slackApi', 'Local Slack catcher', {
			accessToken: 'xoxb-local-slack-catcher',
		});
		for (const file of exampleFiles) {
			const workflow = exampleWorkflow(file, {
				credentials: {
					truvApi: { id: truv.id, name: truv.name },
					smtp: { id: smtp.id, name: smtp.name },
					slackApi: { id: slack.id, name: slack.name },
				},
				parameters: {
					'Notify CRM': { url: `${httpSink.url}/crm/order-completed` },
					'Update CRM': { url: `${httpSink.url}/crm/income-verified` },
				},
			});
			const created = await n8n.createWorkflow(workflow);
			await n8n.activateWorkflow(created.id);
			// The hourly webhook check runs on its schedule: no URL to wait for.
			if (!hasTruvTrigger(workflow)) continue;
			const webhookPath = `${triggerWebhookId(workflow)}/webhook`;
			await n8n.waitForWebhook(webhookPath);
			webhookUrls[workflow.name] = n8n.webhookUrl(webhookPath);
		}
	}

	const state: DevState = {
		mode: realTruv ? 'truv' : 'stand-in',
		standInUrl: standIn?.url,
		n8nUrl: n8n.baseUrl,
		webhookUrls,
	};
	writeFileSync(devStateFile, JSON.stringify(state, null, 2));
	printWelcome(n8n, standIn, sampleOrder, state, smtpSink.port, httpSink.url);

	let stopping = false;
	const stop = (): void => {
		if (stopping) return;
		stopping = true;
		say('\nStopping n8n and the local services …');
		void (async () => {
			await n8n.stop();
			// Passed to startN8n, so not stopped with n8n.
			await registry.stop();
			await Promise.all([standIn?.close(), smtpSink.close(), httpSink.close(), slackSink.close()]);
			rmSync(devStateFile, { force: true });
			process.exit(0);
		})();
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);

	// Show what the workflows send, as it arrives.
	let mails = 0;
	let requests = 0;
	let slackPosts = 0;
	while (!stopping) {
		if (!n8n.isRunning()) {
			process.stderr.write(`n8n exited unexpectedly:\n${n8n.logTail(40)}\n`);
			process.exit(1);
		}
		for (const message of smtpSink.messages.slice(mails)) {
			say(`  ✉  email to ${message.to.join(', ')}: ${message.headers.subject ?? '(no subject)'}`);
		}
		mails = smtpSink.messages.length;
		for (const request of httpSink.requests.slice(requests)) {
			say(`  →  HTTP ${request.method} ${request.path}: ${JSON.stringify(request.json)}`);
		}
		requests = httpSink.requests.length;
		const posted = slackMessages(slackSink);
		for (const message of posted.slice(slackPosts)) {
			const [first, ...rest] = message.text.split('\n');
			say(
				[`  #  Slack ${message.channel}: ${first}`, ...rest.map((line) => `       ${line}`)].join(
					'\n',
				),
			);
		}
		slackPosts = posted.length;
		await sleep(500);
	}
}

function printWelcome(
	n8n: N8nInstance,
	standIn: TruvStandIn | undefined,
	sampleOrder: TruvOrder | undefined,
	state: DevState,
	smtpPort: number,
	httpSinkUrl: string,
): void {
	say(
		[
			'',
			`n8n ${n8n.version} is running with n8n-nodes-truv: ${n8n.baseUrl}`,
			`  sign in with   ${n8n.owner.email} / ${n8n.owner.password}`,
			standIn
				? `  Truv API      local stand-in at ${standIn.url} (no Truv account needed)`
				: "  Truv API      Truv's real API (TRUV_CLIENT_ID / TRUV_ACCESS_SECRET)",
			`  email         caught locally (SMTP 127.0.0.1:${smtpPort}), printed below`,
			`  HTTP requests caught at ${httpSinkUrl}, printed below`,
			'  Slack         caught locally (n8n reaches https://slack.com through a local proxy), printed below',
			...(sampleOrder
				? [
						`  sample order  ${sampleOrder.first_name} ${sampleOrder.last_name}, order ${sampleOrder.order_number} (id ${sampleOrder.id}), at ${sampleOrder.employers[0].company_name}`,
					]
				: [
						"  sample order  none: the samples' orders are not in your Truv account, so Truv: Get Order finds none (the alerts say so, the CRM workflow fails)",
					]),
			'',
			'Active workflows:',
			...Object.entries(state.webhookUrls).map(([name, url]) => `  ${name}\n    ${url}`),
			'  Truv webhooks: hourly check → Slack (every hour; Execute workflow in the editor runs it now)',
			'',
			'Send Truv a sample event (signed, with a fresh webhook_id) from another terminal:',
			...SAMPLE_EVENTS.map((event) => `  npm run send-event -- ${event}`),
			...(standIn
				? [
						'',
						'Make Truv disable a webhook, as it does after failed deliveries, then run the hourly check:',
						`  curl ${standIn.url}/_stand-in/webhooks   (pick an id)`,
						`  curl -X POST ${standIn.url}/_stand-in/webhooks/<id>/disable`,
					]
				: []),
			'',
			'Ctrl-C stops everything.',
			'',
		].join('\n'),
	);
}

main().catch((error: unknown) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
