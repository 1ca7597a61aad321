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
}

// Why a second, in-process record: n8n loads the workflow's static data from the database for
// every production webhook call and writes the whole object back after answering, so two
// concurrent deliveries each see the record as it was before either of them, and the later write
// drops the earlier one's id. This record catches concurrent duplicates and re-adds ids a
// concurrent write dropped; the static data record is what survives a restart of n8n.
const processRecords = new Map<string, ProcessRecord>();

function processRecordFor(recordKey: string): ProcessRecord {
	let record = processRecords.get(recordKey);
	if (!record) {
		record = { seen: new Set(), order: [] };
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
 * Claims a delivery: returns false when `webhookId` was already claimed (a duplicate), otherwise
 * records it and returns true. Synchronous on purpose: nothing may run between the check and the
 * claim, or two concurrent copies of one delivery could both pass.
 */
export function claimDelivery(
	staticData: IDataObject,
	recordKey: string,
	webhookId: string,
): boolean {
	const record = processRecordFor(recordKey);
	const stored = storedRecord(staticData);
	if (stored !== record.written) {
		// Written by an earlier run of n8n or by a concurrent call: keep its ids and add back ours.
		const ids = idsOf(stored);
		const present = new Set(ids);
		for (const own of record.order) if (!present.has(own)) ids.push(own);
		record.order = ids.slice(-DELIVERY_RECORD_LIMIT);
		record.seen = new Set(record.order);
	}
	if (record.seen.has(webhookId)) {
		if (stored !== record.written) {
			// The stored record lacks ids this process claimed: n8n 2.41 does not save the static
			// data of a call that n8n answers after storing the execution, but it saves that of a
			// call the node answers, as it does this duplicate.
			record.written = serialise(record.order);
			staticData[STATIC_DATA_KEY] = record.written;
		}
		return false;
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
	return true;
}

/** The ids a stored record holds, oldest first. */
export function storedWebhookIds(staticData: IDataObject): string[] {
	return idsOf(storedRecord(staticData));
}

/** Forgets the in-process records; the stored ones are untouched. For restarts in tests. */
export function forgetProcessRecords(): void {
	processRecords.clear();
}
