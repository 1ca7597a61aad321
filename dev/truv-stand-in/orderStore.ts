import { randomBytes } from 'node:crypto';

import {
	OPEN_SUBORDER_STATUSES,
	type OrderCreateFields,
	REFRESHES_PER_DAY,
	type SuborderStatus,
	type TruvOrder,
	type TruvOrderEmployer,
	type TruvOrderEvent,
	type TruvOrderFinancialAccount,
	validateOrderCreate,
	validateOrderRefresh,
} from './orderRules';
import type { ReportStore, ReportSubject } from './reportStore';
import { TruvValidationError } from './truvErrors';
import { newTruvId, type TruvEnvironment, truvTimestamp } from './webhookRules';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long an applicant has to connect, counted from the order's creation. */
const ORDER_LIFETIME_MS = 30 * DAY_MS;

interface StoredOrder {
	clientId: string;
	env: TruvEnvironment;
	order: TruvOrder;
	/** Kept as Truv keeps it, but never answered back. */
	ssn?: string;
	events: TruvOrderEvent[];
	/** On the first order of a chain of refreshes: when each refresh was made. */
	refreshTimes: number[];
}

/** Server-assigned fields a test may pin when seeding an order. */
export type OrderSeedOverrides = Partial<Pick<TruvOrder, 'id' | 'created_at'>>;

type Suborder = TruvOrderEmployer | TruvOrderFinancialAccount;

/**
 * The orders of every account and environment, oldest first. An order is only visible with the
 * keys of the environment it was made in. Objects handed out are copies.
 */
export class OrderStore {
	private readonly stored: StoredOrder[] = [];

	constructor(
		private readonly shareBaseUrl: () => string,
		private readonly now: () => Date = () => new Date(),
		private readonly reports?: ReportStore,
	) {}

	/** The newest order of a user, with what its reports need; undefined for an unknown user. */
	subjectOfUser(clientId: string, env: TruvEnvironment, userId: string): ReportSubject | undefined {
		const entry = [...this.stored]
			.reverse()
			.find(
				(candidate) =>
					candidate.clientId === clientId &&
					candidate.env === env &&
					candidate.order.user_id === userId,
			);
		return entry && { order: this.answer(entry), ssn: entry.ssn };
	}

	/** The employer suborder connected through `linkId`, and its order. */
	findLink(
		clientId: string,
		env: TruvEnvironment,
		linkId: string,
	): { subject: ReportSubject; employer: TruvOrderEmployer } | undefined {
		for (const entry of this.stored) {
			if (entry.clientId !== clientId || entry.env !== env) continue;
			const employer = entry.order.employers.find((candidate) => candidate.link_id === linkId);
			if (employer) {
				return {
					subject: { order: this.answer(entry), ssn: entry.ssn },
					employer: { ...employer },
				};
			}
		}
		return undefined;
	}

	/** Newest first, as Truv lists orders. */
	list(clientId?: string, env?: TruvEnvironment): TruvOrder[] {
		return this.stored
			.filter(
				(entry) =>
					(clientId === undefined || entry.clientId === clientId) &&
					(env === undefined || entry.env === env),
			)
			.reverse()
			.map((entry) => this.answer(entry));
	}

	/** Looks in every account and environment when both are undefined. */
	find(clientId: string | undefined, env: TruvEnvironment | undefined, id: string) {
		const entry = this.entry(clientId, env, id);
		return entry && this.answer(entry);
	}

	/** @throws TruvValidationError with the messages Truv answers. */
	create(
		clientId: string,
		env: TruvEnvironment,
		input: unknown,
		overrides: OrderSeedOverrides = {},
	): TruvOrder {
		const fields = validateOrderCreate(input);
		const id = overrides.id ?? newTruvId();
		if (this.stored.some((entry) => entry.order.id === id)) {
			throw new TruvValidationError([
				{ field: 'id', message: 'order with this id already exists.' },
			]);
		}
		const created = overrides.created_at ?? truvTimestamp(this.now());
		const order = this.newOrder(id, created, fields);
		const entry: StoredOrder = {
			clientId,
			env,
			order,
			...(fields.ssn === undefined ? {} : { ssn: fields.ssn }),
			events: [],
			refreshTimes: [],
		};
		this.stored.push(entry);
		this.record(entry, 'order_created', { timestamp: created });
		return this.answer(entry);
	}

	/**
	 * Cancels the suborders still open and stamps `canceled_at`; cancelling again changes
	 * nothing. Returns undefined for an unknown order.
	 */
	cancel(clientId: string, env: TruvEnvironment, id: string): TruvOrder | undefined {
		const entry = this.entry(clientId, env, id);
		if (entry === undefined) return undefined;
		if (entry.order.canceled_at === null) {
			const now = truvTimestamp(this.now());
			for (const suborder of suborders(entry.order)) {
				if (OPEN_SUBORDER_STATUSES.includes(suborder.status)) {
					suborder.status = 'canceled';
					suborder.updated_at = now;
				}
			}
			entry.order.canceled_at = now;
			entry.order.updated_at = now;
			this.record(entry, 'order_canceled', { timestamp: now });
		}
		return this.answer(entry);
	}

	/**
	 * A refresh is a new order (new id, same order_number) for one product over the original's
	 * connections; it needs a connection (a suborder with a link) and at most
	 * REFRESHES_PER_DAY refreshes of the chain in 24 hours.
	 * @throws TruvValidationError; returns undefined for an unknown order.
	 */
	refresh(
		clientId: string,
		env: TruvEnvironment,
		id: string,
		input: unknown,
	): TruvOrder | undefined {
		const source = this.entry(clientId, env, id);
		if (source === undefined) return undefined;
		const { product, employerIds } = validateOrderRefresh(input);
		const refusal = (message: string) =>
			new TruvValidationError([{ field: 'non_field_errors', message }]);
		if (source.order.canceled_at !== null) throw refusal('A canceled order cannot be refreshed.');

		const candidates: Suborder[] =
			product === 'assets' ? source.order.financial_accounts : source.order.employers;
		const unknown = (employerIds ?? []).filter(
			(employerId) => !suborders(source.order).some((suborder) => suborder.id === employerId),
		);
		if (unknown.length > 0) {
			throw new TruvValidationError(
				unknown.map((employerId) => ({
					field: 'employers',
					message: `Employer "${employerId}" is not part of this order.`,
				})),
			);
		}
		const connected = candidates.filter(
			(suborder) =>
				suborder.link_id !== null &&
				(employerIds === undefined || employerIds.includes(suborder.id)),
		);
		if (connected.length === 0) {
			throw refusal(`The order has no active ${product} connection to refresh.`);
		}

		const rootId = source.order.initial_order ?? source.order.id;
		const root = this.entry(undefined, undefined, rootId) ?? source;
		const nowMs = this.now().getTime();
		root.refreshTimes = root.refreshTimes.filter((time) => nowMs - time < DAY_MS);
		if (root.refreshTimes.length >= REFRESHES_PER_DAY) {
			throw refusal(
				`The order was refreshed ${REFRESHES_PER_DAY} times in the last 24 hours, the most Truv allows.`,
			);
		}
		root.refreshTimes.push(nowMs);

		const created = truvTimestamp(this.now());
		const order: TruvOrder = {
			...copyOrder(source.order),
			...this.identity(newTruvId(), created),
			products: [product],
			completed_at: null,
			canceled_at: null,
			...NO_REPORTS,
			initial_order: rootId,
			refresh_order: null,
			employers:
				product === 'assets'
					? []
					: (connected as TruvOrderEmployer[]).map((employer) => ({
							...copySuborder(employer),
							...freshSuborder(created),
						})),
			financial_accounts:
				product === 'assets'
					? (connected as TruvOrderFinancialAccount[]).map((account) => ({
							...copySuborder(account),
							...freshSuborder(created),
						}))
					: [],
		};
		const entry: StoredOrder = {
			clientId,
			env,
			order,
			...(source.ssn === undefined ? {} : { ssn: source.ssn }),
			events: [],
			refreshTimes: [],
		};
		this.stored.push(entry);
		source.order.refresh_order = order.id;
		source.order.updated_at = created;
		this.record(source, 'order_refreshed', { timestamp: created });
		this.record(entry, 'order_created', { timestamp: created, is_refresh: true });
		return this.answer(entry);
	}

	/** The order's event log, oldest first; undefined for an unknown order. */
	events(clientId: string, env: TruvEnvironment, id: string): TruvOrderEvent[] | undefined {
		return this.entry(clientId, env, id)?.events.map((event) => ({ ...event }));
	}

	/**
	 * What the applicant's progress does: one suborder (or every one) reaches `status`. A
	 * suborder past `pending` has a link; once every suborder is final with one completed, the
	 * order is completed. @throws Error for an unknown order or suborder.
	 */
	setSuborderStatus(id: string, status: SuborderStatus, suborderId?: string): TruvOrder {
		const entry = this.entry(undefined, undefined, id);
		if (entry === undefined) throw new Error(`No order ${id}`);
		const targets = suborders(entry.order).filter(
			(suborder) => suborderId === undefined || suborder.id === suborderId,
		);
		if (targets.length === 0) throw new Error(`Order ${id} has no suborder ${suborderId ?? ''}`);
		const now = truvTimestamp(this.now());
		for (const suborder of targets) {
			suborder.status = status;
			suborder.updated_at = now;
			if (status !== 'pending') suborder.link_id ??= newTruvId();
			this.record(entry, `suborder_${status}`, {
				timestamp: now,
				suborder_id: suborder.id,
				link_id: suborder.link_id,
			});
		}
		if (status === 'completed') this.issueReports(entry, targets);
		const all = suborders(entry.order);
		if (
			entry.order.completed_at === null &&
			all.every((suborder) => !OPEN_SUBORDER_STATUSES.includes(suborder.status)) &&
			all.some((suborder) => suborder.status === 'completed')
		) {
			entry.order.completed_at = now;
		}
		entry.order.updated_at = now;
		return this.answer(entry);
	}

	/**
	 * Truv makes a new report, with a new id on the order, each time a connection completes: of
	 * income and employment for an employer, of assets for a financial account.
	 */
	private issueReports(entry: StoredOrder, completed: Suborder[]): void {
		if (this.reports === undefined) return;
		const subject = { order: entry.order, ssn: entry.ssn };
		const { products } = entry.order;
		const employers = completed.filter((suborder) => 'data_sources' in suborder);
		if (employers.length > 0 && (products.includes('income') || products.includes('employment'))) {
			entry.order.voie_report_id = this.reports.createEmploymentReport(
				entry.clientId,
				entry.env,
				subject,
			).body.report_id as string;
		}
		if (employers.length < completed.length && products.includes('assets')) {
			entry.order.voa_report_id = this.reports.createAssetsReport(
				entry.clientId,
				entry.env,
				subject,
			).body.report_id as string;
		}
	}

	private newOrder(id: string, created: string, fields: OrderCreateFields): TruvOrder {
		const optional = (value: string | undefined) => value ?? null;
		return {
			...this.identity(id, created),
			products: fields.products,
			order_number: optional(fields.order_number),
			custom_field: optional(fields.custom_field),
			first_name: fields.first_name,
			last_name: fields.last_name,
			email: optional(fields.email),
			phone: optional(fields.phone),
			external_user_id: optional(fields.external_user_id),
			template_id: optional(fields.template_id),
			user_id: newTruvId(),
			canceled_at: null,
			completed_at: null,
			is_expired: false,
			initial_order: null,
			refresh_order: null,
			...NO_REPORTS,
			employers: fields.employers.map((employer) => ({
				...freshSuborder(created),
				suborder_number: optional(employer.suborder_number),
				company_name: optional(employer.company_name),
				company_mapping_id: optional(employer.company_mapping_id),
				data_source: null,
				data_sources: employer.data_sources ?? [],
				provider: null,
				link_id: null,
				start_date: optional(employer.start_date),
				end_date: optional(employer.end_date),
			})),
			financial_accounts: fields.financial_institutions.map((institution) => ({
				...freshSuborder(created),
				suborder_number: optional(institution.suborder_number),
				financial_institution_id: optional(institution.id),
				name: optional(institution.name),
				link_id: null,
			})),
		};
	}

	/** The fields every new order (created or refreshed) gets afresh. */
	private identity(id: string, created: string) {
		const bridgeToken = randomBytes(16).toString('hex');
		return {
			id,
			bridge_token: bridgeToken,
			share_url: `${this.shareBaseUrl()}/orders/share/${bridgeToken}`,
			short_share_url: `${this.shareBaseUrl()}/s/${bridgeToken.slice(0, 8)}`,
			created_at: created,
			updated_at: created,
			expired_at: truvTimestamp(new Date(Date.parse(created) + ORDER_LIFETIME_MS)),
		};
	}

	private record(
		entry: StoredOrder,
		type: string,
		fields: Partial<TruvOrderEvent> & { timestamp: string },
	): void {
		entry.events.push({
			object: 'order_event',
			type,
			is_refresh: entry.order.initial_order !== null,
			order_id: entry.order.id,
			suborder_id: null,
			task_id: null,
			link_id: null,
			...fields,
		});
	}

	/** A copy with `is_expired` as of now: an open order past `expired_at` has expired. */
	private answer(entry: StoredOrder): TruvOrder {
		const order = copyOrder(entry.order);
		order.is_expired =
			order.completed_at === null &&
			order.canceled_at === null &&
			Date.parse(order.expired_at) <= this.now().getTime();
		return order;
	}

	private entry(
		clientId: string | undefined,
		env: TruvEnvironment | undefined,
		id: string,
	): StoredOrder | undefined {
		return this.stored.find(
			(entry) =>
				entry.order.id === id &&
				(clientId === undefined || entry.clientId === clientId) &&
				(env === undefined || entry.env === env),
		);
	}
}

const NO_REPORTS = {
	voie_report_id: null,
	voa_report_id: null,
	income_insights_report_id: null,
	aim_check_report_id: null,
} as const;

function suborders(order: TruvOrder): Suborder[] {
	return [...order.employers, ...order.financial_accounts];
}

function freshSuborder(created: string) {
	return {
		id: newTruvId(),
		status: 'pending' as SuborderStatus,
		created_at: created,
		updated_at: created,
	};
}

function copySuborder<T extends Suborder>(suborder: T): T {
	return 'data_sources' in suborder
		? {
				...suborder,
				data_sources: [...suborder.data_sources],
				provider: suborder.provider && { ...suborder.provider },
			}
		: { ...suborder };
}

function copyOrder(order: TruvOrder): TruvOrder {
	return {
		...order,
		products: [...order.products],
		employers: order.employers.map(copySuborder),
		financial_accounts: order.financial_accounts.map(copySuborder),
	};
}
