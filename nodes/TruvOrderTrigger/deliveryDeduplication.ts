import type { IDataObject } from 'n8n-workflow';

/**
 * How many recent `webhook_id`s are remembered per trigger, at least. Truv retries a failed delivery within
 * minutes, so the last thousand deliveries cover any retry window at order volumes while keeping the
 * record (saved with the workflow on every webhook call) around 35 kB.
 */
export const DELIVERY_RECORD_LIMIT = 1000;

/**
 * The record is cut back to the limit only once it exceeds it by this much: cutting rewrites the
 * whole string, appending does not.
 */
const TRIM_SLACK = 100;

const STATIC_DATA_KEY = 'recentWebhookIds';
const SEPARATOR = '\n';
const EMPTY_RECORD = SEPARATOR;

// The stored record is one string, "\n"-separated with a separator at both ends, rather than an
// array: n8n wraps every array in workflow static data in a Proxy, which makes each element read
// slow, while a string is matched natively (`includes`) and appended to without copying.
interface ProcessRecord {
	/** The ids of the record as this process last stored it, oldest first, and as a set. */
	order: string[];
	seen: Set<string>;
	/** That stored record, to recognise it unchanged on the next call. */
	written?: string;
	/** Claimed deliveries whose answer is not sent yet: whether n8n stored the execution. */
	inFlight: Map<string, Promise<boolean>>;
	/**
	 * Ids whose execution n8n failed to store: a stored record may still hold them (n8n 2.8 saves
	 * static data before it stores the execution), but Truv's retry of them must run.
	 */
	released: Set<string>;
	/**
	 * Claimed deliveries whose execution has not run the trigger's step in this process yet, with
	 * when they were claimed: while one is pending, its execution will save the record, so an
	 * earlier one need not (see recordExecutedDeliveries).
	 */
	awaitingExecution: Map<string, number>;
	/**
	 * Claimed ids whose only write so far is the static data of the webhook call that n8n answers
	 * after storing the execution: a save n8n 2.8 makes and n8n 2.41 drops.
	 */
	unconfirmed: Set<string>;
	/**
	 * Seen once a stored record named an id of `unconfirmed`: this n8n saves those webhook calls'
	 * static data, so an execution's step need not write its delivery a second time.
	 */
	webhookCallsSaved: boolean;
}

// Why a second, in-process record: n8n loads the workflow's static data from the database for
// every production webhook call and writes the whole object back after answering, so two
// concurrent deliveries each see the record as it was before either of them, and the later write
// drops the earlier one's id. This record catches concurrent duplicates and re-adds ids a
// concurrent write dropped; the static data record is what survives a restart of n8n.
//
// What this guarantees, per mode (measured in test/e2e/queueMode.e2e.test.ts):
// - One n8n process: a copy is a duplicate whenever it arrives, concurrent copies included;
//   after a restart, once the record was saved (by the execution's step, or with the call).
// - Queue mode, n8n 2.8: every webhook process reads the record n8n saved with the previous
//   call, so a retry that reaches another webhook process, or any process after a restart, is a
//   duplicate (0 of 200 ran again). n8n offers a community node no atomic store shared between
//   processes, so two copies that reach different webhook processes before the first call's
//   save can both run: measured 86 of 100 at the same instant, 5 of 10 at 50 ms apart, 1 of 10
//   at 200 ms, none at 500 ms or more.
// - Queue mode, n8n 2.41: n8n saves a webhook call's static data only when the trigger answers
//   it itself, and gives a worker's execution none. With the default acknowledgement a retry is a
//   duplicate only on the webhook process that accepted the delivery (copies to the other
//   process ran twice at every spacing measured, up to 1 s); acknowledged before the execution
//   (the trigger answers), a retry is a duplicate on every process and after restarts, as on
//   n8n 2.8 (0 of 100 ran again); its window for simultaneous copies is not measured yet.
const processRecords = new Map<string, ProcessRecord>();

function processRecordFor(recordKey: string): ProcessRecord {
	let record = processRecords.get(recordKey);
	if (!record) {
		record = {
			seen: new Set(),
			order: [],
			inFlight: new Map(),
			released: new Set(),
			awaitingExecution: new Map(),
			unconfirmed: new Set(),
			webhookCallsSaved: false,
		};
		processRecords.set(recordKey, record);
	}
	return record;
}

/** Ids are opaque: one containing the separator (or looking encoded) is stored JSON-encoded. */
function encode(id: string): string {
	return id.includes(SEPARATOR) || id.startsWith('"') ? JSON.stringify(id) : id;
}

function storedRecord(staticData: IDataObject): string {
	const stored = staticData[STATIC_DATA_KEY];
	return typeof stored === 'string' ? stored : EMPTY_RECORD;
}

function decode(entry: string): string {
	return entry.startsWith('"') ? (JSON.parse(entry) as string) : entry;
}

function idsOf(record: string): string[] {
	// Anything but a record in this format (hand-edited, say) is treated as empty.
	if (record.length < 2 || !record.startsWith(SEPARATOR) || !record.endsWith(SEPARATOR)) return [];
	return record.slice(1, -1).split(SEPARATOR).map(decode);
}

function serialise(ids: string[]): string {
	return ids.length > 0
		? `${SEPARATOR}${ids.map(encode).join(SEPARATOR)}${SEPARATOR}`
		: EMPTY_RECORD;
}

/**
 * What claiming a delivery found: it is new (claimed; `settle` once n8n has answered Truv), a
 * duplicate of one whose execution n8n stored, or a copy of one still being answered (`outcome`
 * says whether n8n stored that one's execution).
 */
export type DeliveryClaim =
	| { status: 'claimed'; settle(stored: boolean): void }
	| { status: 'duplicate' }
	| { status: 'inFlight'; outcome: Promise<boolean> };

/**
 * Claims a delivery. Synchronous on purpose: nothing may run between the check and the claim, or
 * two concurrent copies of one delivery could both pass. A claim is provisional until settled: if
 * n8n failed to store the execution (Truv got an error and will retry), `settle(false)` forgets
 * the id, so that the retry runs; copies that arrived meanwhile wait for that outcome.
 */
export function claimDelivery(
	staticData: IDataObject,
	recordKey: string,
	webhookId: string,
	answeredByNode = false,
): DeliveryClaim {
	const record = processRecordFor(recordKey);
	const stored = storedRecord(staticData);
	if (stored !== record.written) {
		// Written by an earlier run of n8n or by a concurrent call: keep its ids and add back ours.
		const ids = idsOf(stored).filter((id) => !record.released.has(id));
		const present = new Set(ids);
		for (const own of record.order) if (!present.has(own)) ids.push(own);
		record.order = ids.slice(-DELIVERY_RECORD_LIMIT);
		record.seen = new Set(record.order);
	}
	const inFlight = record.inFlight.get(webhookId);
	if (inFlight) return { status: 'inFlight', outcome: inFlight };
	if (record.seen.has(webhookId)) {
		if (stored !== record.written) {
			// The stored record lacks ids this process claimed: n8n 2.41 does not save the static
			// data of a call that n8n answers after storing the execution, but it saves that of a
			// call the node answers, as it does this duplicate.
			record.written = serialise(record.order);
			staticData[STATIC_DATA_KEY] = record.written;
			// Every n8n version saves the static data of a call the node answers.
			record.unconfirmed.clear();
		}
		return { status: 'duplicate' };
	}

	record.released.delete(webhookId);
	record.awaitingExecution.set(webhookId, Date.now());
	// In queue mode executions run on workers and this process never sees them: bounded.
	if (record.awaitingExecution.size > DELIVERY_RECORD_LIMIT) {
		record.awaitingExecution.delete(record.awaitingExecution.keys().next().value as string);
	}
	record.seen.add(webhookId);
	record.order.push(webhookId);
	let next =
		stored === record.written
			? `${stored}${encode(webhookId)}${SEPARATOR}`
			: serialise(record.order);
	if (record.order.length > DELIVERY_RECORD_LIMIT + TRIM_SLACK) {
		for (const forgotten of record.order.splice(0, record.order.length - DELIVERY_RECORD_LIMIT)) {
			record.seen.delete(forgotten);
		}
		next = serialise(record.order);
	}
	record.written = next;
	// Assigning is what marks n8n's static data as changed, so that n8n saves it.
	staticData[STATIC_DATA_KEY] = next;
	if (answeredByNode) {
		// Saved on every n8n version, with everything this process had claimed.
		record.unconfirmed.clear();
	} else {
		record.unconfirmed.add(webhookId);
		if (record.unconfirmed.size > DELIVERY_RECORD_LIMIT) {
			record.unconfirmed.delete(record.unconfirmed.values().next().value as string);
		}
	}

	let resolveOutcome: (stored: boolean) => void = () => undefined;
	record.inFlight.set(
		webhookId,
		new Promise<boolean>((resolve) => {
			resolveOutcome = resolve;
		}),
	);
	let settled = false;
	return {
		status: 'claimed',
		settle(executionStored: boolean) {
			if (settled) return;
			settled = true;
			record.inFlight.delete(webhookId);
			if (!executionStored) forget(record, webhookId);
			resolveOutcome(executionStored);
		},
	};
}

function forget(record: ProcessRecord, webhookId: string): void {
	record.awaitingExecution.delete(webhookId);
	record.unconfirmed.delete(webhookId);
	record.seen.delete(webhookId);
	record.order = record.order.filter((id) => id !== webhookId);
	record.released.add(webhookId);
	// Bounded like the record: a released id older than the record's reach is no longer needed.
	if (record.released.size > DELIVERY_RECORD_LIMIT) {
		record.released.delete(record.released.values().next().value as string);
	}
	// The stored record still names the id: the next claim rewrites it from the process record.
	record.written = undefined;
}

/**
 * How long a claimed delivery is expected to reach its execution's trigger step in this process.
 * Past that (its execution runs on a worker in queue mode, or never ran), it no longer excuses an
 * execution from saving the record.
 */
const EXECUTION_EXPECTED_WITHIN_MS = 60_000;

/**
 * Adds the deliveries of one execution (and whatever else this process claimed) to the stored
 * record, inside the execution: n8n stores the execution's static data when it ends, which n8n
 * 2.41 does not do for the webhook call itself when n8n answers after storing the execution. By
 * then the execution is stored, so the record never names a delivery n8n failed to store. Returns
 * whether the stored record changed; unchanged, n8n has nothing more to write. That is the case
 * when the record already names them (n8n 2.8 saved it with the webhook call), and when another
 * delivery claimed in this process is still on its way to its execution: that execution writes the
 * whole record, these ids included. A burst then costs n8n a handful of writes, not one per
 * delivery, each rewriting the whole record behind SQLite's single write lock.
 *
 * Where n8n saves the static data of the webhook calls it answers after storing the execution
 * (n8n 2.8), the webhook call has already recorded the delivery, and a second write would cost
 * n8n a second save per delivery: once a stored record names an id that only such a save can
 * have stored, this process leaves the record to the webhook calls.
 *
 * An execution that was given no record and runs in a process that claimed nothing for this
 * trigger writes nothing: that is a queue-mode worker of n8n 2.41, whose executions carry a
 * workflow snapshot without static data. n8n saves a worker's static data whole over the stored
 * column, so a record of this execution's ids alone would erase every other delivery's (measured:
 * after 1,000 deliveries the stored record held 1 of them). There the webhook processes' own
 * saves keep the record; on n8n 2.8 a worker's execution carries the record as stored after the
 * webhook call, which already names its delivery.
 */
export function recordExecutedDeliveries(
	staticData: IDataObject,
	recordKey: string,
	webhookIds: string[],
): boolean {
	const record = processRecords.get(recordKey);
	for (const id of webhookIds) record?.awaitingExecution.delete(id);
	if (typeof staticData[STATIC_DATA_KEY] !== 'string' && record === undefined) return false;
	const ids = idsOf(storedRecord(staticData));
	const present = new Set(ids);
	if (record && !record.webhookCallsSaved && record.unconfirmed.size > 0) {
		// Only the webhook call's own save can have stored such an id (every other write clears
		// the set): this n8n saves them, as n8n 2.8 does, and will save this delivery's too.
		record.webhookCallsSaved = ids.some((id) => record.unconfirmed.has(id));
	}
	if (record?.webhookCallsSaved) return false;
	if (webhookIds.every((id) => present.has(id))) return false;
	if (record && laterExecutionPending(record)) return false;
	// Concurrent executions each save the whole record: each adds back what the others added.
	for (const id of [...(record?.order ?? []), ...webhookIds]) {
		if (!present.has(id)) {
			present.add(id);
			ids.push(id);
		}
	}
	staticData[STATIC_DATA_KEY] = serialise(ids.slice(-DELIVERY_RECORD_LIMIT));
	// Saved when the execution ends, on every n8n version, with everything claimed so far.
	record?.unconfirmed.clear();
	return true;
}

function laterExecutionPending(record: ProcessRecord): boolean {
	const expectedSince = Date.now() - EXECUTION_EXPECTED_WITHIN_MS;
	for (const [id, claimedAt] of record.awaitingExecution) {
		if (claimedAt >= expectedSince && !record.inFlight.has(id)) return true;
		if (claimedAt < expectedSince) record.awaitingExecution.delete(id);
	}
	return false;
}

/** The ids a stored record holds, oldest first. */
export function storedWebhookIds(staticData: IDataObject): string[] {
	return idsOf(storedRecord(staticData));
}

/** Forgets the in-process records; the stored ones are untouched. For restarts in tests. */
export function forgetProcessRecords(): void {
	processRecords.clear();
}
