// n8n's processed-data store (the one behind Remove Duplicates) for in-process tests, installed
// into n8n-core's DataDeduplicationService as n8n's CLI installs its database-backed one. It keeps
// what n8n's DeduplicationHelper keeps, the way it keeps it (read in n8n 2.41.1's
// dist/deduplication/deduplication-helper.js, entries mode): one list of MD5 hashes per workflow
// and context (`n:<node id>` for scope 'node'), read whole and written back whole, a first call
// inserting the row. Tests can make calls fail, and hold a call between its read and its write,
// to reproduce what the real store does under concurrency: two first calls collide on the row's
// primary key, and concurrent updates lose one another's entries.
import { createHash } from 'node:crypto';

import { DataDeduplicationService } from 'n8n-core';
import type {
	DeduplicationItemTypes,
	DeduplicationScope,
	ICheckProcessedContextData,
	ICheckProcessedOptions,
	IDataDeduplicator,
	IDeduplicationOutput,
} from 'n8n-workflow';

const hashOf = (value: DeduplicationItemTypes): string =>
	createHash('md5').update(value.toString()).digest('base64');

function rowKey(scope: DeduplicationScope, contextData: ICheckProcessedContextData): string {
	const context = scope === 'node' ? `n:${contextData.node?.id ?? ''}` : '';
	return `${contextData.workflow.id}|${context}`;
}

export class ProcessedDataStore implements IDataDeduplicator {
	private readonly rows = new Map<string, string[]>();
	/** Calls made, for tests that count them. */
	calls = 0;
	/** The next N calls fail, as a database that refuses a query does. */
	failNext = 0;
	/** While set, every call waits for it between reading the row and writing it. */
	holdBetweenReadAndWrite?: Promise<void>;

	async checkProcessedAndRecord(
		items: DeduplicationItemTypes[],
		scope: DeduplicationScope,
		contextData: ICheckProcessedContextData,
		options: ICheckProcessedOptions,
	): Promise<IDeduplicationOutput> {
		this.calls += 1;
		if (this.failNext > 0) {
			this.failNext -= 1;
			throw new Error('SQLITE_BUSY: database is locked');
		}
		if (options.mode !== 'entries') throw new Error('only entries mode is modelled here');
		const key = rowKey(scope, contextData);
		const read = this.rows.get(key);
		const stored = read === undefined ? undefined : [...read];
		if (this.holdBetweenReadAndWrite) await this.holdBetweenReadAndWrite;
		const hashes = items.map(hashOf);
		if (stored === undefined) {
			if (this.rows.has(key)) {
				throw new Error(
					'UNIQUE constraint failed: processed_data.workflowId, processed_data.context',
				);
			}
			this.rows.set(key, this.trim(hashes, options));
			return { new: items, processed: [] };
		}
		const present = new Set(stored);
		const output: IDeduplicationOutput = { new: [], processed: [] };
		hashes.forEach((hash, index) => {
			if (present.has(hash)) output.processed.push(items[index]);
			else {
				output.new.push(items[index]);
				stored.push(hash);
			}
		});
		this.rows.set(key, this.trim(stored, options));
		return output;
	}

	async removeProcessed(): Promise<void> {
		throw new Error('not used by this package');
	}

	async clearAllProcessedItems(
		scope: DeduplicationScope,
		contextData: ICheckProcessedContextData,
	): Promise<void> {
		this.rows.delete(rowKey(scope, contextData));
	}

	async getProcessedDataCount(
		scope: DeduplicationScope,
		contextData: ICheckProcessedContextData,
	): Promise<number> {
		return this.rows.get(rowKey(scope, contextData))?.length ?? 0;
	}

	/** Whether the store holds `value` for any workflow and context. */
	holds(value: DeduplicationItemTypes): boolean {
		const hash = hashOf(value);
		return [...this.rows.values()].some((hashes) => hashes.includes(hash));
	}

	/** Forgets everything, as a new database would. */
	clear(): void {
		this.rows.clear();
		this.calls = 0;
		this.failNext = 0;
		this.holdBetweenReadAndWrite = undefined;
	}

	private trim(hashes: string[], options: ICheckProcessedOptions): string[] {
		return options.maxEntries ? hashes.slice(-options.maxEntries) : hashes;
	}
}

let installed: ProcessedDataStore | undefined;

/** The store n8n-core's execute contexts use in this process (installed on first use). */
export function processedDataStore(): ProcessedDataStore {
	if (!installed) {
		installed = new ProcessedDataStore();
		// init is synchronous in effect (it only assigns the instance); n8n allows it once.
		void DataDeduplicationService.init(installed);
	}
	return installed;
}
