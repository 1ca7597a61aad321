import { createHash } from 'crypto';
import type { IDataObject, IExecuteFunctions, INode } from 'n8n-workflow';

/*
 * Duplicate tracking. Truv may send one event more than once: it retries a delivery whose answer
 * was not a 2xx or did not come within 10 s, and may send a copy. Each event starts the workflow
 * once, and none is dropped.
 *
 * Two rules, in the two places n8n gives the trigger:
 *
 * 1. webhook(), in the process that received the delivery: a delivery is *claimed* while its answer
 *    is under way. A copy that arrives meanwhile waits for that answer: a 2xx (n8n stored the
 *    execution) makes the copy a duplicate, answered 200 without an execution; anything else makes
 *    it claim the delivery itself. A claim ends:
 *    - with a 2xx sent: n8n stored the execution; the process remembers the delivery as stored
 *      (the newest 1,000 per trigger) and answers later copies `duplicate` at once;
 *    - with any other answer, or a connection closed before the answer (Truv gave up waiting):
 *      released. Whether n8n stored that execution is for rule 2 to find out; the retry can run.
 *    Acknowledged before the execution (the option), the claim ends as stored at once.
 * 2. execute(), the trigger's step in the execution n8n stored (on a worker in queue mode): the
 *    delivery is checked and recorded in n8n's processed-data store (the store behind Remove
 *    Duplicates: table processed_data, one entry list per workflow and trigger node, shared by
 *    every process, kept across restarts and updates; the newest 1,000). Already recorded: nothing
 *    goes downstream, and the execution says so in a hint. The store fails: tried once more, then
 *    the delivery runs (a store error never drops a delivery). n8n's store reads and writes the
 *    whole list, so a process makes one call at a time per trigger, and the executions that wait
 *    meanwhile share the next call (a call per delivery cost n8n 2.8 a sixth of its capacity).
 *    Each call writes again the newest 200 deliveries this process recorded (a concurrent write of
 *    another process can drop them), checks once more that its own entries survived when no other
 *    call waits (a waiting call does that check), and takes a delivery this process recorded as
 *    processed whatever the store says.
 *
 * What this guarantees (tests: test/e2e/*.e2e.test.ts, both n8n versions):
 * | case                                                     | one n8n     | queue mode  |
 * |----------------------------------------------------------|-------------|-------------|
 * | a retry, a copy, after a restart or an update            | runs once   | runs once   |
 * | n8n failed to store the first; the retry                 | runs        | runs        |
 * | Truv gave up waiting, n8n then failed to store; retry    | runs once   | runs once   |
 * | two copies at the same instant                           | runs once   | can run twice: see README |
 * | more than 1,000 other deliveries between two copies      | can run twice | can run twice |
 * Manual runs (the test URL) are not tracked: a sample sent again while building must show again.
 */

/** How many deliveries are remembered per trigger, in each process and in n8n's store. */
export const DELIVERY_RECORD_LIMIT = 1000;

/**
 * What is kept of a `webhook_id`: 72 bits of its SHA-256 in base64url. Keeps ids opaque (any
 * length, any characters) and the same as the record releases up to 0.1 kept in static data, so
 * that record is carried over as it is. The chance that a new delivery matches one of the 1,000
 * remembered is 1,000 ÷ 2⁷² (about 2 × 10⁻¹⁹).
 */
export function deliveryKey(webhookId: string): string {
	return createHash('sha256').update(webhookId).digest('base64url').slice(0, 12);
}

/** What duplicate tracking is kept per: the workflow and its trigger node. */
export function triggerKeyOf(workflowId: string | undefined, node: INode): string {
	return `${workflowId ?? ''}:${node.id ?? node.name}`;
}

// ---- Rule 1: claims in webhook() ----

interface TriggerClaims {
	/** Deliveries whose answer is under way: resolves to whether n8n stored the execution. */
	answering: Map<string, Promise<boolean>>;
	/** Deliveries n8n stored an execution for in this process, oldest first (a Set keeps order). */
	stored: Set<string>;
}

const claimsByTrigger = new Map<string, TriggerClaims>();

function claimsOf(triggerKey: string): TriggerClaims {
	let claims = claimsByTrigger.get(triggerKey);
	if (!claims) {
		claims = { answering: new Map(), stored: new Set() };
		claimsByTrigger.set(triggerKey, claims);
	}
	return claims;
}

/**
 * What claiming a delivery found: it is new (claimed; `settle` once Truv has its answer), a copy of
 * one n8n stored, or a copy of one being answered (`outcome`: whether n8n stored that one).
 */
export type DeliveryClaim =
	| { status: 'claimed'; settle(stored: boolean): void }
	| { status: 'duplicate' }
	| { status: 'answering'; outcome: Promise<boolean> };

/**
 * Claims a delivery for `triggerKey` (workflow and node). Synchronous on purpose: nothing may run
 * between the check and the claim, or two concurrent copies could both pass.
 */
export function claimDelivery(triggerKey: string, webhookId: string): DeliveryClaim {
	const claims = claimsOf(triggerKey);
	const key = deliveryKey(webhookId);
	if (claims.stored.has(key)) return { status: 'duplicate' };
	const answering = claims.answering.get(key);
	if (answering) return { status: 'answering', outcome: answering };

	let resolveOutcome: (stored: boolean) => void = () => undefined;
	claims.answering.set(key, new Promise((resolve) => (resolveOutcome = resolve)));
	let settled = false;
	return {
		status: 'claimed',
		settle(stored: boolean) {
			if (settled) return;
			settled = true;
			claims.answering.delete(key);
			if (stored) {
				claims.stored.add(key);
				if (claims.stored.size > DELIVERY_RECORD_LIMIT) {
					claims.stored.delete(claims.stored.values().next().value as string);
				}
			}
			resolveOutcome(stored);
		},
	};
}

/** Forgets every claim, as a restart of n8n does. For tests. */
export function forgetProcessRecords(): void {
	claimsByTrigger.clear();
	storeQueues.clear();
	recordedHere.clear();
}

// ---- Rule 2: n8n's processed-data store, in execute() ----

const STORE_OPTIONS = { mode: 'entries', maxEntries: DELIVERY_RECORD_LIMIT } as const;

/** Where releases up to 0.1 kept their record, in the trigger's static data. */
const LEGACY_KEYS = 'recentDeliveryKeys';
const LEGACY_IDS = 'recentWebhookIds';

/** What checking an execution's deliveries found. */
export interface ProcessedCheck {
	/** Keys of deliveries recorded by an earlier execution: not to run again. */
	processed: Set<string>;
	/** Why the store could not be used, when it could not: every delivery then runs. */
	storeError?: string;
}

/** One execution waiting for the store: its deliveries, and what to record along with them. */
interface WaitingCheck {
	context: IExecuteFunctions;
	keys: string[];
	/** Recorded, not checked: what an earlier release kept in static data. */
	carriedOver: string[];
	resolve(processed: Set<string>): void;
	reject(error: unknown): void;
}

interface StoreQueue {
	waiting: WaitingCheck[];
	busy: boolean;
}

// Per trigger, this process's store calls, one at a time: n8n's helper reads the entry list and
// writes it back whole, so two calls at once would lose one's entries. The executions that wait
// meanwhile share the next call: under load one call records many deliveries.
const storeQueues = new Map<string, StoreQueue>();

function checkInTurn(
	context: IExecuteFunctions,
	triggerKey: string,
	keys: string[],
	carriedOver: string[],
): Promise<Set<string>> {
	let queue = storeQueues.get(triggerKey);
	if (!queue) {
		queue = { waiting: [], busy: false };
		storeQueues.set(triggerKey, queue);
	}
	const promise = new Promise<Set<string>>((resolve, reject) =>
		queue.waiting.push({ context, keys, carriedOver, resolve, reject }),
	);
	if (!queue.busy) void callStoreInTurn(triggerKey, queue);
	return promise;
}

async function callStoreInTurn(triggerKey: string, queue: StoreQueue): Promise<void> {
	queue.busy = true;
	while (queue.waiting.length > 0) {
		const batch = queue.waiting.splice(0);
		const keys = batch.flatMap((check) => check.keys);
		const carriedOver = batch.flatMap((check) => check.carriedOver);
		try {
			const processed = await checkAndRecord(
				batch[0].context,
				triggerKey,
				keys,
				carriedOver,
				() => queue.waiting.length === 0,
			);
			// Two executions of one delivery in one call: the first runs, the other is its copy.
			const runsHere = new Set<string>();
			for (const check of batch) {
				const found = new Set<string>();
				for (const key of check.keys) {
					if (processed.has(key) || runsHere.has(key)) found.add(key);
					else runsHere.add(key);
				}
				check.resolve(found);
			}
		} catch (error) {
			for (const check of batch) check.reject(error);
		}
	}
	queue.busy = false;
	if (storeQueues.get(triggerKey) === queue) storeQueues.delete(triggerKey);
}

/** The record an earlier release left in static data, as delivery keys. */
function legacyKeys(staticData: IDataObject): string[] {
	const keys = staticData[LEGACY_KEYS];
	if (typeof keys === 'string') return keys.split(' ').filter((key) => key.length > 0);
	const ids = staticData[LEGACY_IDS];
	if (typeof ids !== 'string') return [];
	return ids
		.split('\n')
		.filter((entry) => entry.length > 0)
		.map((entry) => deliveryKey(entry.startsWith('"') ? (JSON.parse(entry) as string) : entry));
}

/**
 * How many of the deliveries this process recorded each store call writes again. n8n's store
 * replaces the whole list on every write, so another process that read it before this one wrote
 * can drop this one's entries when it writes after: the next call from this process puts them
 * back. The newest 200 cover a burst across workers until Truv's retries (30 s and later) arrive.
 */
const REASSERTED_PER_CALL = 200;

/** Per trigger, the deliveries this process recorded in the store, oldest first. */
const recordedHere = new Map<string, Set<string>>();

function rememberRecorded(triggerKey: string, keys: string[]): void {
	let recorded = recordedHere.get(triggerKey);
	if (!recorded) {
		recorded = new Set();
		recordedHere.set(triggerKey, recorded);
	}
	for (const key of keys) {
		recorded.delete(key);
		recorded.add(key);
	}
	for (const oldest of recorded) {
		if (recorded.size <= REASSERTED_PER_CALL) break;
		recorded.delete(oldest);
	}
}

async function checkAndRecord(
	context: IExecuteFunctions,
	triggerKey: string,
	keys: string[],
	carriedOver: string[],
	nothingWaiting: () => boolean,
): Promise<Set<string>> {
	const ownRecord = recordedHere.get(triggerKey) ?? new Set<string>();
	const processed = new Set(keys.filter((key) => ownRecord.has(key)));
	const items = [...new Set([...carriedOver, ...keys, ...ownRecord])];
	const result = await context.helpers.checkProcessedAndRecord(items, 'node', STORE_OPTIONS);
	const checked = new Set(keys);
	for (const key of result.processed.map(String)) if (checked.has(key)) processed.add(key);
	rememberRecorded(
		triggerKey,
		keys.filter((key) => !processed.has(key)),
	);
	// Another process may have written the list between this call's read and write, dropping the
	// entries added here: checked again, a dropped entry comes back as new and is added again. When
	// more executions wait, their call is that check (it writes this process's entries again).
	let added = result.new.map(String);
	for (let round = 0; round < 2 && added.length > 0 && nothingWaiting(); round++) {
		const again = await context.helpers.checkProcessedAndRecord(added, 'node', STORE_OPTIONS);
		added = again.new.map(String);
	}
	return processed;
}

/**
 * Checks the deliveries of one execution against n8n's processed-data store and records them
 * there. A store that fails twice is reported, and every delivery runs.
 */
export async function checkProcessedDeliveries(
	context: IExecuteFunctions,
	triggerKey: string,
	webhookIds: string[],
): Promise<ProcessedCheck> {
	const staticData = context.getWorkflowStaticData('node');
	const legacy = legacyKeys(staticData);
	const keys = webhookIds.map(deliveryKey);
	const attempt = async () => await checkInTurn(context, triggerKey, keys, legacy);
	let storeError: string | undefined;
	let processed = new Set<string>();
	try {
		processed = await attempt();
	} catch {
		try {
			// Two first calls at once collide on the list's primary key: the second try finds the list.
			processed = await attempt();
		} catch (error) {
			storeError = (error as Error).message;
		}
	}
	if (storeError === undefined && legacy.length > 0) {
		// Carried over: n8n saves the static data without it when the execution ends.
		delete staticData[LEGACY_KEYS];
		delete staticData[LEGACY_IDS];
	}
	// Even when the store failed, the old record still names what an earlier release processed.
	for (const key of legacy) if (keys.includes(key)) processed.add(key);
	return storeError === undefined ? { processed } : { processed, storeError };
}
