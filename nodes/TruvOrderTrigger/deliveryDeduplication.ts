import { createHash } from 'crypto';
import type { IDataObject } from 'n8n-workflow';

/**
 * How many recent deliveries each n8n process remembers per trigger, at least; where executions
 * run in other processes (queue mode), the stored record keeps as many, since the other webhook
 * processes and the restarted ones know only what it names (about 13 kB). Truv retries a failed
 * delivery within minutes (three retries 30 s apart by one account), so the last thousand cover a
 * retry window at any order volume.
 */
export const DELIVERY_RECORD_LIMIT = 1000;

/**
 * How many of them the stored record keeps where the process runs the executions itself (one n8n
 * process): the stored record then only bridges a restart, and n8n 2.8 writes the whole workflow
 * static data into every execution it stores and loads it for every execution it starts, so each
 * kilobyte costs every delivery (measured with bench:n8n: 13 kB cost 2.3 ms of n8n CPU per
 * delivery, 11 %; 2.6 kB costs too little to tell from noise). 200 deliveries cover Truv's retry
 * window across a restart up to one delivery a second.
 */
export const SINGLE_PROCESS_STORED_LIMIT = 200;

/**
 * The record is cut back to the limit only once it exceeds it by this much: cutting rewrites the
 * whole string, appending does not.
 */
const TRIM_SLACK = 100;

const STATIC_DATA_KEY = 'recentDeliveryKeys';
const SEPARATOR = ' ';
const EMPTY_RECORD = SEPARATOR;
/** Where release 0.1.0 kept the raw ids, "\n"-separated: still read, replaced on the next write. */
const LEGACY_STATIC_DATA_KEY = 'recentWebhookIds';
const LEGACY_SEPARATOR = '\n';

/**
 * What the record keeps of a `webhook_id`: 72 bits of its SHA-256 in base64url (12 characters).
 * n8n 2.8 saves the whole record with every webhook call, so its size is n8n's cost per delivery:
 * a key is 13 bytes stored against 35 for a Truv id (32 hex characters and an escaped "\n").
 * Hashing keeps ids opaque (any length, any characters) and the chance that a new delivery's key
 * matches one of the 1,000 remembered is 1,000 ÷ 2⁷² (about 2 × 10⁻¹⁹), where a match would skip
 * a genuine event as a duplicate.
 */
export function deliveryKey(webhookId: string): string {
	return createHash('sha256').update(webhookId).digest('base64url').slice(0, 12);
}

// The stored record is one string of delivery keys, space-separated with a separator at both
// ends, rather than an array: n8n wraps every array in workflow static data in a Proxy, which
// makes each element read slow, while a string is matched natively and appended to without
// copying.
interface ProcessRecord {
	/** The keys of the record as this process last stored it, oldest first, and as a set. */
	order: string[];
	seen: Set<string>;
	/** That stored record, to recognise it unchanged on the next call. */
	written?: string;
	/** The last stored record another writer left, whose keys `order` already holds. */
	merged?: string;
	/** Claimed deliveries whose answer is not sent yet: whether n8n stored the execution. */
	inFlight: Map<string, Promise<boolean>>;
	/**
	 * Keys of deliveries whose execution n8n failed to store: a stored record may still hold them (n8n 2.8 saves
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
	 * Seen once an execution of a delivery claimed here ran the trigger's step in this process:
	 * from then on the executions' steps keep the stored record and the webhook calls leave it
	 * alone (see claimDelivery).
	 */
	executionsRunHere: boolean;
	/** When an execution's step last wrote the record (Date.now()). */
	lastExecutionWriteAt: number;
}

// Why a second, in-process record: n8n loads the workflow's static data from the database for
// every production webhook call and writes the whole object back after answering, so two
// concurrent deliveries each see the record as it was before either of them, and the later write
// drops the earlier one's id. This record catches concurrent duplicates and re-adds ids a
// concurrent write dropped; the static data record is what survives a restart of n8n.
//
// What this guarantees, per mode (measured in test/e2e/queueMode.e2e.test.ts):
// - One n8n process: a copy of any of the last 1,000 deliveries is a duplicate whenever it
//   arrives, concurrent copies included; after a restart, a copy of the newest 200 once the
//   record was saved (by an execution's step, at least once a second under load).
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
			executionsRunHere: false,
			lastExecutionWriteAt: 0,
		};
		processRecords.set(recordKey, record);
	}
	return record;
}

function storedRecord(staticData: IDataObject): string {
	const stored = staticData[STATIC_DATA_KEY];
	if (typeof stored === 'string') return stored;
	const legacy = staticData[LEGACY_STATIC_DATA_KEY];
	return typeof legacy === 'string'
		? serialise(legacyIdsOf(legacy).map(deliveryKey))
		: EMPTY_RECORD;
}

function hasStoredRecord(staticData: IDataObject): boolean {
	return (
		typeof staticData[STATIC_DATA_KEY] === 'string' ||
		typeof staticData[LEGACY_STATIC_DATA_KEY] === 'string'
	);
}

function writeRecord(staticData: IDataObject, record: string): void {
	// Assigning is what marks n8n's static data as changed, so that n8n saves it.
	staticData[STATIC_DATA_KEY] = record;
	if (LEGACY_STATIC_DATA_KEY in staticData) delete staticData[LEGACY_STATIC_DATA_KEY];
}

function legacyIdsOf(record: string): string[] {
	if (!isRecord(record, LEGACY_SEPARATOR)) return [];
	return record
		.slice(1, -1)
		.split(LEGACY_SEPARATOR)
		.map((entry) => (entry.startsWith('"') ? (JSON.parse(entry) as string) : entry));
}

function isRecord(record: string, separator: string): boolean {
	return record.length >= 2 && record.startsWith(separator) && record.endsWith(separator);
}

function keysOf(record: string): string[] {
	// Anything but a record in this format (hand-edited, say) is treated as empty.
	if (!isRecord(record, SEPARATOR)) return [];
	return record.slice(1, -1).split(SEPARATOR);
}

function serialise(keys: string[]): string {
	return keys.length > 0 ? `${SEPARATOR}${keys.join(SEPARATOR)}${SEPARATOR}` : EMPTY_RECORD;
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
): DeliveryClaim {
	const key = deliveryKey(webhookId);
	const record = processRecordFor(recordKey);
	const stored = storedRecord(staticData);
	if (stored !== record.written && stored !== record.merged) {
		// Written by an earlier run of n8n or by a concurrent call: keep its ids and add back ours.
		const keys = keysOf(stored).filter((stored) => !record.released.has(stored));
		const present = new Set(keys);
		for (const own of record.order) if (!present.has(own)) keys.push(own);
		record.order = keys.slice(-DELIVERY_RECORD_LIMIT);
		record.seen = new Set(record.order);
		// n8n hands the webhook calls the same stored record until something saves a new one.
		record.merged = stored;
	}
	const inFlight = record.inFlight.get(key);
	if (inFlight) return { status: 'inFlight', outcome: inFlight };
	if (record.seen.has(key)) {
		if (stored !== record.written) {
			// The stored record lacks ids this process claimed: n8n 2.41 does not save the static
			// data of a call that n8n answers after storing the execution, but it saves that of a
			// call the node answers, as it does this duplicate.
			record.written = serialise(record.order.slice(-storedLimit(record)));
			writeRecord(staticData, record.written);
		}
		return { status: 'duplicate' };
	}

	record.released.delete(key);
	record.awaitingExecution.set(key, Date.now());
	// In queue mode executions run on workers and this process never sees them: bounded.
	if (record.awaitingExecution.size > DELIVERY_RECORD_LIMIT) {
		record.awaitingExecution.delete(record.awaitingExecution.keys().next().value as string);
	}
	record.seen.add(key);
	record.order.push(key);
	let trimmed = false;
	if (record.order.length > DELIVERY_RECORD_LIMIT + TRIM_SLACK) {
		for (const forgotten of record.order.splice(0, record.order.length - DELIVERY_RECORD_LIMIT)) {
			record.seen.delete(forgotten);
		}
		trimmed = true;
	}
	// Where this process runs the executions (one n8n process), their steps save the record,
	// a few times per burst, and a save here would cost n8n 2.8 one more workflow write per
	// delivery (it saves every webhook call's changed static data; n8n 2.41 drops the save of a
	// call that n8n answers after storing the execution). A queue-mode webhook process never runs
	// an execution: there the webhook call's save is what other processes and restarts read.
	if (!record.executionsRunHere) {
		const next =
			stored === record.written && !trimmed
				? `${stored}${key}${SEPARATOR}`
				: serialise(record.order);
		record.written = next;
		writeRecord(staticData, next);
	}

	let resolveOutcome: (stored: boolean) => void = () => undefined;
	record.inFlight.set(
		key,
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
			record.inFlight.delete(key);
			if (!executionStored) forget(record, key);
			resolveOutcome(executionStored);
		},
	};
}

function forget(record: ProcessRecord, key: string): void {
	record.awaitingExecution.delete(key);
	record.seen.delete(key);
	record.order = record.order.filter((claimed) => claimed !== key);
	record.released.add(key);
	// Bounded like the record: a released id older than the record's reach is no longer needed.
	if (record.released.size > DELIVERY_RECORD_LIMIT) {
		record.released.delete(record.released.values().next().value as string);
	}
	// The stored record still names the id: the next claim rewrites it from the process record.
	record.written = undefined;
	record.merged = undefined;
}

/**
 * How long a claimed delivery is expected to reach its execution's trigger step in this process.
 * Past that (its execution runs on a worker in queue mode, or never ran), it no longer excuses an
 * execution from saving the record.
 */
const EXECUTION_EXPECTED_WITHIN_MS = 60_000;

/**
 * While executions keep coming, each leaves the write to a later one; one of them writes anyway
 * once this long has passed since the last write, so that a crash of n8n under steady load forgets
 * at most about a second of deliveries.
 */
const EXECUTION_WRITE_INTERVAL_MS = 1_000;

/**
 * Adds the deliveries of one execution (and whatever else this process claimed) to the stored
 * record, inside the execution: n8n stores the execution's static data when it ends, on every
 * version, which n8n 2.41 does not do for the webhook call itself when n8n answers after storing
 * the execution. By then the execution is stored, so the record never names a delivery n8n failed
 * to store. Returns whether the stored record changed; unchanged, n8n has nothing more to write.
 * That is the case when the record already names them, and when another delivery claimed in this
 * process is still on its way to its execution (for at most EXECUTION_WRITE_INTERVAL_MS): that
 * execution writes the whole record, these ids included. A burst then costs n8n a few writes a
 * second, not one per delivery, each rewriting the whole record behind SQLite's single write lock.
 * A delivery still being stored counts as on its way (n8n starts the execution before it answers
 * Truv): should n8n fail to store it, Truv gets n8n's error and retries, and the retry's execution
 * writes what this one left.
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
	const executed = webhookIds.map(deliveryKey);
	if (record) {
		for (const key of executed) {
			if (record.awaitingExecution.delete(key)) record.executionsRunHere = true;
		}
	}
	if (!hasStoredRecord(staticData) && record === undefined) return false;
	const keys = keysOf(storedRecord(staticData)).filter((key) => !record?.released.has(key));
	const present = new Set(keys);
	const limit = record ? storedLimit(record) : DELIVERY_RECORD_LIMIT;
	const recent = record?.order.slice(-limit) ?? [];
	const missing = [...recent, ...executed].filter((key) => !present.has(key));
	if (missing.length === 0) return false;
	const now = Date.now();
	if (
		record &&
		now - record.lastExecutionWriteAt < EXECUTION_WRITE_INTERVAL_MS &&
		laterExecutionPending(record)
	) {
		return false;
	}
	// Concurrent executions each save the whole record: each adds back what the others added.
	for (const key of missing) {
		if (!present.has(key)) {
			present.add(key);
			keys.push(key);
		}
	}
	const written = serialise(keys.slice(-limit));
	writeRecord(staticData, written);
	if (record) {
		record.lastExecutionWriteAt = now;
		// Keys another writer stored that this process had not merged yet.
		for (const key of keys) {
			if (!record.seen.has(key)) {
				record.seen.add(key);
				record.order.push(key);
			}
		}
		// What the next webhook call will most likely load: recognised there without re-reading.
		record.written = written;
	}
	return true;
}

function storedLimit(record: ProcessRecord): number {
	return record.executionsRunHere ? SINGLE_PROCESS_STORED_LIMIT : DELIVERY_RECORD_LIMIT;
}

function laterExecutionPending(record: ProcessRecord): boolean {
	const expectedSince = Date.now() - EXECUTION_EXPECTED_WITHIN_MS;
	for (const [key, claimedAt] of record.awaitingExecution) {
		if (claimedAt >= expectedSince) return true;
		if (claimedAt < expectedSince) record.awaitingExecution.delete(key);
	}
	return false;
}

/** The delivery keys a stored record holds, oldest first (see deliveryKey). */
export function storedDeliveryKeys(staticData: IDataObject): string[] {
	return keysOf(storedRecord(staticData));
}

/** Forgets the in-process records; the stored ones are untouched. For restarts in tests. */
export function forgetProcessRecords(): void {
	processRecords.clear();
}
