import type {
	IDataObject,
	ILoadOptionsFunctions,
	INodeListSearchItems,
	INodeListSearchResult,
} from 'n8n-workflow';

import {
	nextPagePath,
	readTruvCredentials,
	resolveEnvironment,
	truvApiRequest,
	truvBaseUrl,
	type TruvCredentials,
} from '../../shared/truvTransport';

const ORDERS_PATH = '/v1/orders/';
const WEBHOOKS_PATH = '/v1/webhooks/';

/**
 * Pages read for one answer while the search finds nothing on them: Truv's lists take no search
 * query (none is documented), so the filter is applied page by page, and the editor asks for
 * more with the pagination token once the user scrolls to the end.
 */
export const PAGES_PER_SEARCH = 5;

function matches(filter: string | undefined, texts: unknown[]): boolean {
	const wanted = (filter ?? '').trim().toLowerCase();
	if (wanted === '') return true;
	return texts.some((text) => typeof text === 'string' && text.toLowerCase().includes(wanted));
}

/**
 * One answer of a list search: pages of `endpoint` from the page the token names (the path of a
 * next page under the Base URL, as nextPagePath gives it), until one holds a match.
 */
async function searchTruvList<T extends IDataObject>(
	context: ILoadOptionsFunctions,
	credentials: TruvCredentials,
	endpoint: string,
	paginationToken: string | undefined,
	toResult: (item: T) => INodeListSearchItems | undefined,
): Promise<INodeListSearchResult> {
	// A token that is not a page of this list (edited, or from another list) starts over.
	let path = paginationToken?.startsWith(`${endpoint}?`) ? paginationToken : endpoint;
	const results: INodeListSearchItems[] = [];
	for (let page = 1; ; page++) {
		const { body } = await truvApiRequest<{ results?: T[]; next?: string | null } | T[]>(
			context,
			'GET',
			path,
			{ credentials },
		);
		const items = Array.isArray(body) ? body : (body?.results ?? []);
		for (const item of items) {
			const result = toResult(item);
			if (result) results.push(result);
		}
		const next = Array.isArray(body) ? undefined : body?.next;
		const nextPath = next ? nextPagePath(truvBaseUrl(credentials), endpoint, next) : undefined;
		if (nextPath === undefined || nextPath === path) return { results };
		path = nextPath;
		if (results.length > 0 || page >= PAGES_PER_SEARCH) return { results, paginationToken: path };
	}
}

/** Orders, newest first, by order number or applicant name (or ID). */
export async function searchOrders(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const credentials = await readTruvCredentials(this);
	return await searchTruvList<IDataObject>(
		this,
		credentials,
		ORDERS_PATH,
		paginationToken,
		(order) => {
			const applicant = [order.first_name, order.last_name]
				.filter((part) => typeof part === 'string' && part !== '')
				.join(' ');
			const number = typeof order.order_number === 'string' ? order.order_number : '';
			if (!matches(filter, [number, applicant, order.id])) return undefined;
			return {
				name: [number, applicant].filter((part) => part !== '').join(' · ') || String(order.id),
				value: String(order.id),
			};
		},
	);
}

/** The webhooks of the credential's environment, by name or URL. */
export async function searchWebhooks(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const credentials = await readTruvCredentials(this);
	const environment = resolveEnvironment(credentials);
	return await searchTruvList<IDataObject>(
		this,
		credentials,
		WEBHOOKS_PATH,
		paginationToken,
		(webhook) => {
			if (environment && webhook.env_type !== environment) return undefined;
			if (!matches(filter, [webhook.name, webhook.webhook_url])) return undefined;
			const name = typeof webhook.name === 'string' && webhook.name !== '' ? webhook.name : '';
			return {
				name: [name, String(webhook.webhook_url ?? '')].filter((part) => part !== '').join(' · '),
				value: String(webhook.id),
			};
		},
	);
}
