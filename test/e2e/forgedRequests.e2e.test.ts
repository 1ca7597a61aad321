// Forged requests in a real n8n: whoever knows a trigger's webhook URL can send as many as they
// like, with a well-formed but wrong X-WEBHOOK-SIGN or a malformed one; both kinds are refused with
// 401 and start nothing, and a trigger whose credential was deleted answers 503 and logs it once.
// What they cost is guarded where it can be counted: the unit tests count the credential reads (at
// most once per 10 s whatever arrives). What a forged request costs n8n in CPU next to a malformed
// one is a timing, so it is not asserted here: `npm run bench:n8n` measures it, in alternating
// batches in the n8n it loads, and reports it in BENCHMARKS.md.
import { readFileSync } from 'fs';
import { rm } from 'fs/promises';

import { request } from '../../dev/n8n/http';
import { startN8n, type N8nInstance } from '../../dev/n8n/n8nInstance';
import { provisionN8n } from '../../dev/n8n/runtimes';
import { sleep } from '../../dev/n8n/wait';
import {
	signTruvWebhookBody,
	startTruvStandIn,
	type TruvStandIn,
} from '../../dev/truv-stand-in/truvStandIn';
import { noOpWorkflow, standInCredentialData } from '../../dev/workflows/truvWorkflows';
import { MISMATCH_REREAD_INTERVAL_MS } from '../../nodes/TruvOrderTrigger/credentialCache';
import {
	e2eVersions,
	exactlyExecutions,
	freshEvent,
	inPool,
	minutes,
	truvWebhooks,
	usePackedRepository,
} from './e2eSetup';

/** Refused requests of each kind, sent CONCURRENCY at a time. */
const REFUSED_REQUESTS = 300;
const CONCURRENCY = 10;
const FIXTURE = 'order-status-updated-completed';

jest.setTimeout(minutes(5));

const packedTarball = usePackedRepository();

type Kind = 'malformed' | 'forged' | 'genuine';

describe.each(e2eVersions)('forged requests in n8n %s', (version) => {
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let secret: string;
	let workflowId: string;
	let credentialId: string;
	const webhookId = `truv-forged-${version.replace(/\./g, '-')}`;

	/** A delivery of Truv's sample with its own webhook_id, its header made for `kind`. */
	const requestOf = (kind: Kind) => {
		const body = Buffer.from(JSON.stringify(freshEvent(FIXTURE)));
		const genuine = signTruvWebhookBody(body, secret);
		const signature = {
			genuine,
			// Well-formed, as an attacker without the secret would make it.
			forged: signTruvWebhookBody(body, 'sandbox-forged-0000000000000000000000'),
			// 63 hex digits: refused for its form, before any secret is looked at.
			malformed: genuine.slice(0, -1),
		}[kind];
		return { body, headers: { 'x-webhook-sign': signature } };
	};

	/** Sends `count` requests of `kind` at CONCURRENCY; the statuses n8n answered. */
	const send = async (kind: Kind, count: number) =>
		await inPool(
			Array.from({ length: count }, () => requestOf(kind)),
			CONCURRENCY,
			async ({ body, headers }) => {
				const answer = await request(n8n.webhookUrl(`${webhookId}/webhook`), {
					method: 'POST',
					body,
					headers: { 'content-type': 'application/json', ...headers },
				});
				return answer.status;
			},
		);

	beforeAll(async () => {
		await provisionN8n(version);
		standIn = await startTruvStandIn();
		secret = standIn.account.secrets.sandbox!;
		n8n = await startN8n({ version, tarballs: [packedTarball()] });
		const credential = await n8n.createCredential(
			'truvApi',
			'Truv (stand-in)',
			standInCredentialData(standIn, secret),
		);
		credentialId = credential.id;
		workflowId = (await n8n.createWorkflow(noOpWorkflow(webhookId, credential))).id;
		await n8n.activateWorkflow(workflowId);
		await n8n.waitForWebhook(`${webhookId}/webhook`);
		// n8n serves the path before the trigger has registered at Truv: let that finish first.
		await truvWebhooks(standIn, 1);
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await standIn?.close();
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test('forged and malformed requests are refused with 401 and start nothing', async () => {
		// One genuine delivery first: the workflow runs, and the trigger remembers the credential.
		expect(await send('genuine', 1)).toEqual([200]);
		await exactlyExecutions(n8n, workflowId, 1);
		const statuses = {
			malformed: await send('malformed', REFUSED_REQUESTS),
			forged: await send('forged', REFUSED_REQUESTS),
		};
		expect(new Set(statuses.malformed)).toEqual(new Set([401]));
		expect(new Set(statuses.forged)).toEqual(new Set([401]));
		expect(statuses.malformed).toHaveLength(REFUSED_REQUESTS);
		expect(statuses.forged).toHaveLength(REFUSED_REQUESTS);
		// Long enough for an execution a refused request started to be listed.
		await sleep(2_000);
		expect(await n8n.executions({ workflowId })).toHaveLength(1);
	});

	test('a trigger whose credential was deleted answers every request 503 naming it, starts nothing and logs once, however many forged requests come', async () => {
		const executionsBefore = (await n8n.executions({ workflowId })).length;
		const logBefore = readFileSync(n8n.logFile, 'utf8').length;
		await n8n.rest('DELETE', `/credentials/${credentialId}`);
		// The copy the trigger remembers is re-read for a mismatching signature once it is 10 s old.
		await sleep(MISMATCH_REREAD_INTERVAL_MS);
		const statuses: number[] = [];
		const messages = new Set<string>();
		for (const kind of ['forged', 'genuine', ...Array<Kind>(50).fill('forged')] as Kind[]) {
			const { body, headers } = requestOf(kind);
			const answer = await request(n8n.webhookUrl(`${webhookId}/webhook`), {
				method: 'POST',
				body,
				headers: { 'content-type': 'application/json', ...headers },
			});
			statuses.push(answer.status);
			messages.add(String((answer.json as { message?: string } | undefined)?.message));
		}
		// The genuine one may still match the remembered secret; every other one cannot be checked.
		expect(statuses.filter((status) => status !== 503 && status !== 200)).toEqual([]);
		expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(51);
		expect([...messages].filter((message) => message !== 'Delivery accepted')).toEqual([
			expect.stringMatching(/credential cannot be read/),
		]);
		await sleep(2_000);
		// No stored execution (hence no Error Workflow) for any of them.
		const executionsAfter = await n8n.executions({ workflowId });
		expect(executionsAfter.length - executionsBefore).toBe(
			statuses.filter((s) => s === 200).length,
		);
		const logged = readFileSync(n8n.logFile, 'utf8').slice(logBefore);
		expect(logged.match(/credential_unreadable/g) ?? []).toHaveLength(1);
	});
});
