import type { IDataObject, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError, sleep } from 'n8n-workflow';

import { truvApiRequest } from '../../shared/truvTransport';
import { type OperationContext, pathId, type TruvOperation } from './operationContext';
import { orderStatus } from './simplifyOrder';

type ReportType = 'incomeAndEmployment' | 'assets' | 'employment';

interface ReportKind {
	/** As a user reads it in a message. */
	label: string;
	/** In the PDF's file name. */
	fileLabel: string;
	/** The order's field holding the current report's id; none for employment only. */
	orderField?: string;
	/** Where the user's reports of this kind are, under `/v1/users/{user_id}/`. */
	reportsPath: string;
}

const REPORT_KINDS: Record<ReportType, ReportKind> = {
	incomeAndEmployment: {
		label: 'income and employment',
		fileLabel: 'income-and-employment',
		orderField: 'voie_report_id',
		reportsPath: 'reports/',
	},
	assets: {
		label: 'assets',
		fileLabel: 'assets',
		orderField: 'voa_report_id',
		reportsPath: 'assets/reports/',
	},
	employment: {
		label: 'employment-only',
		fileLabel: 'employment',
		reportsPath: 'reports/',
	},
};

/**
 * Truv may answer 404 for a report it has just created, for a few seconds (its demo app reads
 * again after 0, 2 and 4 s): read again after these waits, 14 s in all, before giving up.
 */
export const NEW_REPORT_WAITS_MS = [2_000, 4_000, 8_000];

interface ReportTarget {
	userId: string;
	reportId: string;
	kind: ReportKind;
	/** The order the report was found through, for the file name and the output. */
	order?: IDataObject;
}

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objects(value: unknown): IDataObject[] {
	return Array.isArray(value) ? value.filter(isObject) : [];
}

/** One employment of a report, with the fields a CRM or a loan file takes. */
function simplifyEmployment(employment: IDataObject, link: IDataObject = {}): IDataObject {
	const profile = isObject(employment.profile) ? employment.profile : {};
	const company = isObject(employment.company) ? employment.company : {};
	return {
		link_id: link.link_id ?? employment.link_id ?? null,
		provider_name: link.provider_name ?? null,
		first_name: profile.first_name ?? null,
		last_name: profile.last_name ?? null,
		employer: company.name ?? null,
		job_title: employment.job_title ?? null,
		is_active: employment.is_active ?? null,
		start_date: employment.start_date ?? null,
		end_date: employment.end_date ?? null,
		income: employment.income ?? null,
		income_unit: employment.income_unit ?? null,
		pay_rate: employment.pay_rate ?? null,
		pay_frequency: employment.pay_frequency ?? null,
	};
}

function simplifyAccount(account: IDataObject, link: IDataObject): IDataObject {
	const balances = isObject(account.balances) ? account.balances : {};
	return {
		link_id: link.link_id ?? null,
		provider_name: link.provider_name ?? null,
		id: account.id ?? null,
		type: account.type ?? null,
		mask: account.mask ?? null,
		owners: account.owners ?? [],
		balance: balances.balance ?? null,
		available_balance: balances.available_balance ?? null,
		currency_code: balances.currency_code ?? null,
		transactions_count: objects(account.transactions).length,
	};
}

/** The report's fields a workflow acts on: one entry per employment or per account. */
export function simplifyReport(report: IDataObject, kind: ReportKind): IDataObject {
	const links = objects(report.links);
	const simplified: IDataObject = {
		report_id: report.report_id ?? null,
		created_at: report.created_at ?? null,
	};
	if (kind === REPORT_KINDS.assets) {
		return {
			...simplified,
			days_requested: report.days_requested ?? null,
			as_of_date: report.as_of_date ?? null,
			accounts: links.flatMap((link) =>
				objects(link.accounts).map((account) => simplifyAccount(account, link)),
			),
			summary: report.summary ?? null,
		};
	}
	return {
		...simplified,
		completed_at: report.completed_at ?? null,
		employments: links.flatMap((link) =>
			objects(link.employments).map((employment) => simplifyEmployment(employment, link)),
		),
	};
}

function orderFields(order: IDataObject | undefined): IDataObject {
	return order ? { order_id: order.id ?? null, order_number: order.order_number ?? null } : {};
}

function jsonOutput(operation: OperationContext, report: IDataObject, target: ReportTarget) {
	const { context, itemIndex } = operation;
	if (!context.getNodeParameter('simplify', itemIndex, true)) return report;
	return { ...orderFields(target.order), ...simplifyReport(report, target.kind) };
}

function reportPath({ userId, reportId, kind }: ReportTarget): string {
	return `/v1/users/${userId}/${kind.reportsPath}${reportId}/`;
}

/** A name any file system takes: the order number (or an ID) and the report type. */
function fileName(target: ReportTarget): string {
	const base =
		(target.order && String(target.order.order_number ?? target.order.id ?? '')) ||
		decodeURIComponent(target.reportId);
	return `${base.replace(/[^A-Za-z0-9._-]+/g, '_')}-${target.kind.fileLabel}.pdf`;
}

/**
 * Reads a report as JSON or as its PDF. Right after Truv created it, a 404 is waited out (see
 * NEW_REPORT_WAITS_MS); otherwise a 404 is an error.
 */
async function readReport(
	operation: OperationContext,
	target: ReportTarget,
	options: { justCreated?: boolean } = {},
): Promise<INodeExecutionData[]> {
	const { context, itemIndex, credentials } = operation;
	const format = context.getNodeParameter('format', itemIndex, 'json') as string;
	const pdf = format === 'pdf';
	const path = reportPath(target);
	const reportId = decodeURIComponent(target.reportId);
	const waitedSeconds = NEW_REPORT_WAITS_MS.reduce((sum, wait) => sum + wait, 0) / 1000;
	const notFoundHint = options.justCreated
		? `Truv created the ${target.kind.label} report ${reportId} but did not serve it within ${waitedSeconds} s: get it later with Find By set to User ID and Report ID`
		: `Truv has no ${target.kind.label} report ${reportId} of user ${decodeURIComponent(target.userId)} in this Truv environment`;
	for (let attempt = 0; ; attempt++) {
		const retryAfterNotFound = options.justCreated && attempt < NEW_REPORT_WAITS_MS.length;
		const { statusCode, body } = await truvApiRequest<IDataObject | Buffer>(context, 'GET', path, {
			qs: { fmt: pdf ? 'pdf' : 'json' },
			credentials,
			itemIndex,
			notFoundHint,
			allowStatus: retryAfterNotFound ? [404] : [],
			...(pdf ? { binary: { accept: 'application/pdf' } } : {}),
		});
		if (statusCode === 404) {
			await sleep(NEW_REPORT_WAITS_MS[attempt]);
			continue;
		}
		if (!pdf) return [{ json: jsonOutput(operation, body as IDataObject, target) }];
		// Every PDF starts so; anything else (a JSON answer, an error page) is no file to pass on.
		if (!(body as Buffer).subarray(0, 5).equals(Buffer.from('%PDF-'))) {
			throw new NodeApiError(context.getNode(), {} as JsonObject, {
				message: `Truv answered GET ${path} with something that is not a PDF`,
				description: `Asked for the PDF of the ${target.kind.label} report ${reportId}.`,
				itemIndex,
			});
		}
		const field = String(context.getNodeParameter('binaryPropertyName', itemIndex, 'data')).trim();
		const file = await context.helpers.prepareBinaryData(
			body as Buffer,
			fileName(target),
			'application/pdf',
		);
		return [
			{
				json: {
					...orderFields(target.order),
					user_id: decodeURIComponent(target.userId),
					report_id: decodeURIComponent(target.reportId),
					report_type: target.kind.label,
					file_name: file.fileName ?? fileName(target),
				},
				binary: { [field || 'data']: file },
			},
		];
	}
}

/** `POST`s a new report: Truv answers with the whole report. */
async function createReport(
	operation: OperationContext,
	userId: string,
	kind: ReportKind,
): Promise<IDataObject> {
	const { context, itemIndex, credentials } = operation;
	const { body } = await truvApiRequest(
		context,
		'POST',
		`/v1/users/${userId}/${kind.reportsPath}`,
		{
			body: kind === REPORT_KINDS.employment ? { is_voe: true } : {},
			credentials,
			itemIndex,
			notFoundHint: `Truv has no user ${decodeURIComponent(userId)} in this Truv environment`,
		},
	);
	if (typeof body?.report_id !== 'string' || body.report_id === '') {
		throw new NodeOperationError(context.getNode(), 'Truv created a report without a report ID', {
			itemIndex,
		});
	}
	return body;
}

function describeState(order: IDataObject): string {
	const suborders = [...objects(order.employers), ...objects(order.financial_accounts)];
	const list = suborders
		.map((item) => `${String(item.company_name ?? item.name ?? item.id)}: ${String(item.status)}`)
		.join(', ');
	return `the order is ${orderStatus(order)}${list ? ` (${list})` : ''}`;
}

/** Employment only from an order: one connection's report each, read by its link. */
async function employmentOnly(
	operation: OperationContext,
	order: IDataObject,
	userId: string,
): Promise<INodeExecutionData[]> {
	const { context, itemIndex, credentials } = operation;
	const kind = REPORT_KINDS.employment;
	const format = context.getNodeParameter('format', itemIndex, 'json') as string;
	const connected = objects(order.employers).filter(
		(employer) => employer.status === 'completed' && typeof employer.link_id === 'string',
	);
	if (connected.length === 0) {
		throw new NodeOperationError(
			context.getNode(),
			`Order ${String(order.id)} has no completed employment connection yet: ${describeState(order)}`,
			{
				itemIndex,
				description:
					'Truv has employment data once the applicant connects an employer: get the report after the order’s completed event.',
			},
		);
	}
	// Truv keeps no employment-only report on an order, and makes its PDF only for a user report.
	if (format === 'pdf') {
		if (!context.getNodeParameter('createIfMissing', itemIndex, false)) {
			throw new NodeOperationError(
				context.getNode(),
				'Truv keeps no employment-only PDF on an order',
				{
					itemIndex,
					description:
						'Turn on Create If Missing to have Truv create one (Truv may bill it), or get the Income and Employment report.',
				},
			);
		}
		const created = await createReport(operation, userId, kind);
		return await readReport(
			operation,
			{ userId, reportId: encodeURIComponent(String(created.report_id)), kind, order },
			{ justCreated: true },
		);
	}
	const simplify = context.getNodeParameter('simplify', itemIndex, true) as boolean;
	const items: INodeExecutionData[] = [];
	for (const employer of connected) {
		const linkId = encodeURIComponent(String(employer.link_id));
		const { body } = await truvApiRequest(
			context,
			'GET',
			`/v1/links/${linkId}/employment/report/`,
			{
				credentials,
				itemIndex,
				notFoundHint: `Truv has no employment report for connection ${String(employer.link_id)}`,
			},
		);
		items.push({
			json: simplify
				? {
						...orderFields(order),
						employer_id: employer.id ?? null,
						...simplifyEmployment(body, { link_id: employer.link_id }),
					}
				: body,
		});
	}
	return items;
}

const get: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const type = context.getNodeParameter(
		'reportType',
		itemIndex,
		'incomeAndEmployment',
	) as ReportType;
	const kind = REPORT_KINDS[type] ?? REPORT_KINDS.incomeAndEmployment;
	if (context.getNodeParameter('source', itemIndex, 'order') === 'ids') {
		const userId = pathId(operation, 'userId', 'User ID');
		const reportId = pathId(operation, 'reportId', 'Report ID');
		return { items: await readReport(operation, { userId, reportId, kind }) };
	}

	const orderId = pathId(operation, 'orderId', 'Order ID');
	// Read every time: Truv gives the order a new report id whenever another connection completes.
	const { body: order } = await truvApiRequest(context, 'GET', `/v1/orders/${orderId}/`, {
		credentials,
		itemIndex,
		notFoundHint: `No order with ID ${decodeURIComponent(orderId)} in this Truv environment`,
	});
	if (typeof order.user_id !== 'string' || order.user_id === '') {
		throw new NodeOperationError(
			context.getNode(),
			`Truv's order ${String(order.id)} has no user ID`,
			{
				itemIndex,
			},
		);
	}
	const userId = encodeURIComponent(order.user_id);
	if (!kind.orderField) return { items: await employmentOnly(operation, order, userId) };

	const current = order[kind.orderField];
	if (typeof current === 'string' && current !== '') {
		return {
			items: await readReport(operation, {
				userId,
				reportId: encodeURIComponent(current),
				kind,
				order,
			}),
		};
	}
	if (!context.getNodeParameter('createIfMissing', itemIndex, false)) {
		throw new NodeOperationError(
			context.getNode(),
			`Order ${String(order.id)} has no ${kind.label} report yet: ${describeState(order)}`,
			{
				itemIndex,
				description: `Truv makes the report once a connection of the order completes (its ${kind.orderField} is empty until then). Get the report after the order’s completed event, or turn on Create If Missing to have Truv create one (Truv may bill it).`,
			},
		);
	}
	const created = await createReport(operation, userId, kind);
	const target = { userId, reportId: encodeURIComponent(String(created.report_id)), kind, order };
	if (context.getNodeParameter('format', itemIndex, 'json') === 'json') {
		return { items: [{ json: jsonOutput(operation, created, target) }] };
	}
	return { items: await readReport(operation, target, { justCreated: true }) };
};

export const reportActions: Record<string, TruvOperation> = { get };
