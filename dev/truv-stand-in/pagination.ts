import { type Answer, jsonAnswer } from './httpExchange';
import { invalidPageBody } from './truvErrors';

/**
 * Page-number pagination as Django REST framework renders it: absolute `next`/`previous`
 * links that keep the other query parameters, page 1 linked without `page`, `?page=last`
 * accepted, and 404 "Invalid page." for anything out of range.
 */
export function pageNumberAnswer<T>(
	items: readonly T[],
	url: URL,
	baseUrl: string,
	pageSize: number,
): Answer {
	const pageCount = Math.max(1, Math.ceil(items.length / pageSize));
	const pageText = url.searchParams.get('page');
	let page = 1;
	if (pageText === 'last') page = pageCount;
	else if (pageText !== null && pageText !== '') {
		page = /^\d+$/.test(pageText) ? Number(pageText) : NaN;
		if (!(page >= 1 && page <= pageCount)) return jsonAnswer(404, invalidPageBody());
	}

	const pageUrl = (target: number) => {
		const address = new URL(url.pathname + url.search, baseUrl);
		if (target === 1) address.searchParams.delete('page');
		else address.searchParams.set('page', String(target));
		return address.toString();
	};
	const start = (page - 1) * pageSize;
	return jsonAnswer(200, {
		count: items.length,
		next: page < pageCount ? pageUrl(page + 1) : null,
		previous: page > 1 ? pageUrl(page - 1) : null,
		results: items.slice(start, start + pageSize),
	});
}
