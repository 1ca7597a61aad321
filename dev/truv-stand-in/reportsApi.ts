import type { Caller, Route } from './apiRoute';
import { type Answer, firstHeader, jsonAnswer, type ReceivedRequest } from './httpExchange';
import type { OrderStore } from './orderStore';
import { reportPdf } from './reportPdf';
import { employment, type ReportKind, type ReportStore, type StoredReport } from './reportStore';
import { notFoundBody, TruvValidationError } from './truvErrors';

export interface ReportsApiContext {
	baseUrl: string;
	orders: OrderStore;
	reports: ReportStore;
	/** How long a newly created report answers 404 (Truv: a few seconds). */
	reportReadyDelayMs: number;
}

const USER_REPORTS_PATH = /^\/v1\/users\/([^/]+)\/reports\/$/;
const USER_REPORT_PATH = /^\/v1\/users\/([^/]+)\/reports\/([^/]+)\/$/;
const ASSETS_REPORTS_PATH = /^\/v1\/users\/([^/]+)\/assets\/reports\/$/;
const ASSETS_REPORT_PATH = /^\/v1\/users\/([^/]+)\/assets\/reports\/([^/]+)\/$/;
const LINK_REPORT_PATH = /^\/v1\/links\/([^/]+)\/(income|employment)\/report\/$/;

/** The report endpoints of truv-api.md's *Verification results (reports)*. */
export function findReportsRoute(context: ReportsApiContext, pathname: string): Route | undefined {
	const ids = (match: RegExpExecArray | null) => {
		if (!match) return undefined;
		try {
			return match.slice(1).map(decodeURIComponent);
		} catch {
			return undefined;
		}
	};
	let match = ids(USER_REPORTS_PATH.exec(pathname));
	if (match) return createReportRoute(context, match[0], 'voie');
	match = ids(ASSETS_REPORTS_PATH.exec(pathname));
	if (match) return createReportRoute(context, match[0], 'voa');
	match = ids(USER_REPORT_PATH.exec(pathname));
	if (match) return reportRoute(context, match[0], match[1], ['voie', 'voe']);
	match = ids(ASSETS_REPORT_PATH.exec(pathname));
	if (match) return reportRoute(context, match[0], match[1], ['voa']);
	match = ids(LINK_REPORT_PATH.exec(pathname));
	if (match) return linkReportRoute(context, match[0], match[1] === 'income');
	return undefined;
}

function reportRoute(
	context: ReportsApiContext,
	userId: string,
	reportId: string,
	kinds: ReportKind[],
): Route {
	return {
		methods: {
			GET: (request, caller) => {
				const report = context.reports.find(caller.clientId, caller.env, userId, reportId, kinds);
				if (report === undefined) return jsonAnswer(404, notFoundBody());
				const format = request.url.searchParams.get('fmt') ?? 'json';
				if (format === 'pdf') {
					if (!accepts(request, 'application/pdf')) return notAcceptable();
					return pdfAnswer(report);
				}
				if (!accepts(request, 'application/json')) return notAcceptable();
				return jsonAnswer(200, report.body);
			},
		},
	};
}

function createReportRoute(context: ReportsApiContext, userId: string, kind: ReportKind): Route {
	return {
		methods: {
			POST: (_request, caller: Caller, body) => {
				const subject = context.orders.subjectOfUser(caller.clientId, caller.env, userId);
				if (subject === undefined) return jsonAnswer(404, notFoundBody());
				const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
					string,
					unknown
				>;
				const readableAfterMs = context.reportReadyDelayMs;
				if (kind === 'voa') {
					const days = fields.days_requested ?? 60;
					if (!(Number.isInteger(days) && (days as number) >= 30 && (days as number) <= 730)) {
						throw new TruvValidationError([
							{ field: 'days_requested', message: 'Ensure this value is between 30 and 730.' },
						]);
					}
					const report = context.reports.createAssetsReport(caller.clientId, caller.env, subject, {
						daysRequested: days as number,
						asOfDate: typeof fields.as_of_date === 'string' ? fields.as_of_date : undefined,
						readableAfterMs,
					});
					return jsonAnswer(201, report.body);
				}
				const report = context.reports.createEmploymentReport(
					caller.clientId,
					caller.env,
					subject,
					{ employmentOnly: fields.is_voe === true, readableAfterMs },
				);
				return jsonAnswer(201, report.body);
			},
		},
	};
}

function linkReportRoute(context: ReportsApiContext, linkId: string, withIncome: boolean): Route {
	return {
		methods: {
			GET: (_request, caller) => {
				const link = context.orders.findLink(caller.clientId, caller.env, linkId);
				if (link === undefined || link.employer.status !== 'completed') {
					return jsonAnswer(404, notFoundBody());
				}
				return jsonAnswer(200, {
					...employment(link.subject, link.employer, withIncome, context.baseUrl),
					link_id: linkId,
					// One integrator saw it null in sandbox; the user report's ?fmt=pdf is dependable.
					pdf_report: null,
				});
			},
		},
	};
}

/** Django REST framework's content negotiation: no Accept, or one that takes `mediaType`. */
function accepts(request: ReceivedRequest, mediaType: string): boolean {
	const accept = firstHeader(request.headers, 'accept');
	if (accept === undefined || accept.trim() === '') return true;
	const [type] = mediaType.split('/');
	return accept
		.split(',')
		.map((part) => part.split(';')[0].trim().toLowerCase())
		.some((range) => range === '*/*' || range === `${type}/*` || range === mediaType);
}

function notAcceptable(): Answer {
	return jsonAnswer(406, { detail: 'Could not satisfy the request Accept header.' });
}

function pdfAnswer(report: StoredReport): Answer {
	const title =
		report.kind === 'voa'
			? 'Verification of Assets'
			: report.kind === 'voe'
				? 'Verification of Employment'
				: 'Verification of Income and Employment';
	const pdf = reportPdf(title, [
		`Report ${String(report.body.report_id)}`,
		`Applicant: ${report.applicant}`,
		`Created: ${String(report.body.created_at)}`,
	]);
	return { status: 200, body: pdf, contentType: 'application/pdf' };
}
