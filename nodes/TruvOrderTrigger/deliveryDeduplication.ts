import type { IDataObject } from 'n8n-workflow';

/**
 * How many recent `webhook_id`s are remembered per trigger. Truv retries a failed delivery within
 * minutes, so the last thousand deliveries cover any retry window at order volumes while keeping the
 * record (saved with the workflow on every webhook call) around 40 kB.
 */
export const DELIVERY_RECORD_LIMIT = 1000;

const STATIC_DATA_KEY = 'recentWebhookIds';

interface ProcessRecord {
	seen: Set<string>;
	order: string[];
}

// Why two records: n8n loads the workflow's static data from the database for every production
// webhook call and writes the whole object back after answering, so two concurrent deliveries each
// see the record as it was before either of them, and the later write drops the earlier one's id.
// This in-process record catches concurrent duplicates and re-adds ids that a concurrent write
// dropped; the static data record is what survives a restart of n8n.
const processRecords = new Map<string, ProcessRecord>();

function processRecordFor(recordKey: string): ProcessRecord {
	let record = processRecords.get(recordKey);
	if (!record) {
		record = { seen: new Set(), order: [] };
		processRecords.set(recordKey, record);
	}
	return record;
}

function storedIds(staticData: IDataObject): string[] {
	const stored = staticData[STATIC_DATA_KEY];
	return Array.isArray(stored) ? (stored as string[]) : [];
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
	const stored = storedIds(staticData);
	if (record.seen.has(webhookId) || stored.includes(webhookId)) return false;

	record.seen.add(webhookId);
	record.order.push(webhookId);
	if (record.order.length > DELIVERY_RECORD_LIMIT) {
		record.seen.delete(record.order.shift() as string);
	}

	const merged = stored.filter((id) => !record.seen.has(id)).concat(record.order);
	// Assigning a new array (rather than mutating) is what marks n8n's static data as changed.
	staticData[STATIC_DATA_KEY] =
		merged.length > DELIVERY_RECORD_LIMIT ? merged.slice(-DELIVERY_RECORD_LIMIT) : merged;
	return true;
}

/** Forgets the in-process records; the stored ones are untouched. For restarts in tests. */
export function forgetProcessRecords(): void {
	processRecords.clear();
}
