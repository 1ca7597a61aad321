import { type InvalidParam, TruvValidationError } from './truvErrors';
import { notAChoice, pythonTypeName, stringProblem } from './webhookRules';

/** The products truv-api.md names for orders; Truv has more, which the stand-in refuses. */
export const ORDER_PRODUCTS = ['income', 'employment', 'assets'] as const;
export type OrderProduct = (typeof ORDER_PRODUCTS)[number];

/** Suborder statuses (truv-api.md): the first two are not final. */
export const SUBORDER_STATUSES = [
	'pending',
	'sent',
	'completed',
	'error',
	'canceled',
	'expired',
	'no_data',
	'skipped',
] as const;
export type SuborderStatus = (typeof SUBORDER_STATUSES)[number];
export const OPEN_SUBORDER_STATUSES: readonly SuborderStatus[] = ['pending', 'sent'];

export const DATA_SOURCES = ['payroll', 'docs', 'insurance', 'financial_accounts', 'tax'] as const;

/** Truv allows this many refreshes of one connection in 24 hours. */
export const REFRESHES_PER_DAY = 3;

const NAME_MAX_LENGTH = 128;
const TEXT_MAX_LENGTH = 255;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** One employer of an order (a suborder); `id` is the webhooks' `employer_id`. */
export interface TruvOrderEmployer {
	id: string;
	status: SuborderStatus;
	suborder_number: string | null;
	company_name: string | null;
	company_mapping_id: string | null;
	data_source: string | null;
	data_sources: string[];
	provider: { id: string; name: string } | null;
	link_id: string | null;
	start_date: string | null;
	end_date: string | null;
	created_at: string;
	updated_at: string;
}

/** One financial institution of an assets order (a suborder too). */
export interface TruvOrderFinancialAccount {
	id: string;
	status: SuborderStatus;
	suborder_number: string | null;
	financial_institution_id: string | null;
	name: string | null;
	link_id: string | null;
	created_at: string;
	updated_at: string;
}

/** The order object, with the top-level fields truv-api.md lists (no top-level `status`). */
export interface TruvOrder {
	id: string;
	products: OrderProduct[];
	order_number: string | null;
	custom_field: string | null;
	first_name: string;
	last_name: string;
	email: string | null;
	phone: string | null;
	external_user_id: string | null;
	template_id: string | null;
	user_id: string;
	share_url: string;
	short_share_url: string;
	bridge_token: string;
	created_at: string;
	updated_at: string;
	canceled_at: string | null;
	completed_at: string | null;
	expired_at: string;
	is_expired: boolean;
	/** On a refresh: the order the chain of refreshes started from. */
	initial_order: string | null;
	/** On a refreshed order: its latest refresh. */
	refresh_order: string | null;
	employers: TruvOrderEmployer[];
	financial_accounts: TruvOrderFinancialAccount[];
	/**
	 * The order's reports (truv-api.md): null until a connection completes, and a new id each time
	 * another one completes. Income and employment for the income and employment products, assets
	 * for the assets product; the stand-in makes no income insights or AIM check reports.
	 */
	voie_report_id: string | null;
	voa_report_id: string | null;
	income_insights_report_id: string | null;
	aim_check_report_id: string | null;
}

/** An item of `GET /v1/orders/{id}/events/`. */
export interface TruvOrderEvent {
	object: 'order_event';
	type: string;
	is_refresh: boolean;
	order_id: string;
	timestamp: string;
	suborder_id: string | null;
	task_id: string | null;
	link_id: string | null;
}

export interface EmployerInput {
	company_name?: string;
	company_mapping_id?: string;
	suborder_number?: string;
	data_sources?: string[];
	start_date?: string;
	end_date?: string;
}

export interface FinancialInstitutionInput {
	id?: string;
	name?: string;
	suborder_number?: string;
}

/** A create body after validation. The SSN is accepted and never answered back. */
export interface OrderCreateFields {
	products: OrderProduct[];
	first_name: string;
	last_name: string;
	email?: string;
	phone?: string;
	ssn?: string;
	order_number?: string;
	external_user_id?: string;
	template_id?: string;
	custom_field?: string;
	employers: EmployerInput[];
	financial_institutions: FinancialInstitutionInput[];
}

export interface OrderRefreshFields {
	product: OrderProduct;
	/** Suborder ids to refresh; every connected one when absent. */
	employerIds?: string[];
}

/**
 * Checks a `POST /v1/orders/` body with the messages Django REST framework gives, collecting
 * every problem; nested fields are named `employers.0.start_date`. Unknown fields are ignored.
 */
export function validateOrderCreate(input: unknown): OrderCreateFields {
	const body = requireDictionary(input);
	const problems: InvalidParam[] = [];
	const products = readProducts(body, problems);
	const firstName = readText(body, 'first_name', problems, {
		required: true,
		max: NAME_MAX_LENGTH,
	});
	const lastName = readText(body, 'last_name', problems, { required: true, max: NAME_MAX_LENGTH });
	const email = readText(body, 'email', problems);
	if (email !== undefined && !EMAIL.test(email)) {
		problems.push({ field: 'email', message: 'Enter a valid email address.' });
	}
	const optional = (field: string) => readText(body, field, problems);
	const fields: OrderCreateFields = {
		products: products ?? [],
		first_name: firstName ?? '',
		last_name: lastName ?? '',
		email,
		phone: optional('phone'),
		ssn: optional('ssn'),
		order_number: optional('order_number'),
		external_user_id: optional('external_user_id'),
		template_id: optional('template_id'),
		custom_field: optional('custom_field'),
		employers: readList(body, 'employers', problems, readEmployer),
		financial_institutions: readList(
			body,
			'financial_institutions',
			problems,
			readFinancialInstitution,
		),
	};
	if (problems.length > 0) throw new TruvValidationError(problems);
	return fields;
}

/** Checks a refresh body `{products: [one product], employers?: [{id}]}`. */
export function validateOrderRefresh(input: unknown): OrderRefreshFields {
	const body = requireDictionary(input);
	const problems: InvalidParam[] = [];
	const products = readProducts(body, problems);
	if (products !== undefined && products.length !== 1) {
		problems.push({ field: 'products', message: 'A refresh takes exactly one product.' });
	}
	const employers = readList(body, 'employers', problems, (item, field, itemProblems) => {
		const id = readText(item, 'id', itemProblems, { required: true, field: `${field}.id` });
		return id ?? '';
	});
	if (problems.length > 0) throw new TruvValidationError(problems);
	return {
		product: (products as OrderProduct[])[0],
		...(Object.prototype.hasOwnProperty.call(body, 'employers') ? { employerIds: employers } : {}),
	};
}

function requireDictionary(input: unknown): Record<string, unknown> {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) {
		const got = Array.isArray(input) ? 'list' : input === null ? 'NoneType' : typeof input;
		throw new TruvValidationError([
			{
				field: 'non_field_errors',
				message: `Invalid data. Expected a dictionary, but got ${got}.`,
			},
		]);
	}
	return input as Record<string, unknown>;
}

function readProducts(
	body: Record<string, unknown>,
	problems: InvalidParam[],
): OrderProduct[] | undefined {
	const value = body.products;
	if (value === undefined) {
		problems.push({ field: 'products', message: 'This field is required.' });
		return undefined;
	}
	if (!Array.isArray(value)) {
		problems.push({
			field: 'products',
			message:
				value === null
					? 'This field may not be null.'
					: `Expected a list of items but got type "${pythonTypeName(value)}".`,
		});
		return undefined;
	}
	if (value.length === 0) {
		problems.push({ field: 'products', message: 'This list may not be empty.' });
		return undefined;
	}
	const invalid = value.filter(
		(product) =>
			typeof product !== 'string' || !(ORDER_PRODUCTS as readonly string[]).includes(product),
	);
	for (const product of invalid) problems.push({ field: 'products', message: notAChoice(product) });
	return invalid.length === 0 ? [...new Set(value as OrderProduct[])] : undefined;
}

function readText(
	body: Record<string, unknown>,
	name: string,
	problems: InvalidParam[],
	options: { required?: boolean; max?: number; field?: string } = {},
): string | undefined {
	const field = options.field ?? name;
	const value = body[name];
	if (value === undefined || (value === null && !options.required)) {
		if (options.required) problems.push({ field, message: 'This field is required.' });
		return undefined;
	}
	if (value === null) {
		problems.push({ field, message: 'This field may not be null.' });
		return undefined;
	}
	const message = stringProblem(value, options.max ?? TEXT_MAX_LENGTH);
	if (message) {
		problems.push({ field, message });
		return undefined;
	}
	return value as string;
}

function readList<T>(
	body: Record<string, unknown>,
	name: string,
	problems: InvalidParam[],
	readItem: (item: Record<string, unknown>, field: string, problems: InvalidParam[]) => T,
): T[] {
	const value = body[name];
	if (value === undefined || value === null) return [];
	if (!Array.isArray(value)) {
		problems.push({
			field: name,
			message: `Expected a list of items but got type "${pythonTypeName(value)}".`,
		});
		return [];
	}
	return value.flatMap((item, index) => {
		const field = `${name}.${index}`;
		if (typeof item !== 'object' || item === null || Array.isArray(item)) {
			problems.push({
				field,
				message: `Invalid data. Expected a dictionary, but got ${pythonTypeName(item)}.`,
			});
			return [];
		}
		return [readItem(item as Record<string, unknown>, field, problems)];
	});
}

function readEmployer(
	item: Record<string, unknown>,
	field: string,
	problems: InvalidParam[],
): EmployerInput {
	const text = (name: string) => readText(item, name, problems, { field: `${field}.${name}` });
	const employer: EmployerInput = {
		company_name: text('company_name'),
		company_mapping_id: text('company_mapping_id'),
		suborder_number: text('suborder_number'),
	};
	for (const name of ['start_date', 'end_date'] as const) {
		const date = text(name);
		if (date !== undefined && !(DATE.test(date) && !Number.isNaN(Date.parse(date)))) {
			problems.push({
				field: `${field}.${name}`,
				message: 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.',
			});
		} else if (date !== undefined) employer[name] = date;
	}
	const dataSources = item.data_sources;
	if (dataSources !== undefined && dataSources !== null) {
		if (!Array.isArray(dataSources)) {
			problems.push({
				field: `${field}.data_sources`,
				message: `Expected a list of items but got type "${pythonTypeName(dataSources)}".`,
			});
		} else {
			for (const source of dataSources) {
				if (!(DATA_SOURCES as readonly unknown[]).includes(source)) {
					problems.push({ field: `${field}.data_sources`, message: notAChoice(source) });
				}
			}
			employer.data_sources = dataSources as string[];
		}
	}
	return employer;
}

function readFinancialInstitution(
	item: Record<string, unknown>,
	field: string,
	problems: InvalidParam[],
): FinancialInstitutionInput {
	const text = (name: string) => readText(item, name, problems, { field: `${field}.${name}` });
	return { id: text('id'), name: text('name'), suborder_number: text('suborder_number') };
}
