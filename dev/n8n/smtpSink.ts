import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

import { waitFor, type WaitOptions } from './wait';

export interface RecordedMessage {
	/** MAIL FROM of the envelope ('' for a null sender). */
	from: string;
	/** RCPT TO addresses of the envelope. */
	to: string[];
	/** The message exactly as transmitted after DATA. */
	raw: string;
	/** Top-level header fields, names lower-cased, folded lines joined. */
	headers: Record<string, string>;
	/** Everything after the header block, undecoded. */
	body: string;
	/** The text/plain content, decoded (quoted-printable or base64), or '' when there is none. */
	text: string;
	/** The text/html content, decoded, or '' when there is none. */
	html: string;
	/** The attached files (parts with a file name or a non-text type), decoded. */
	attachments: RecordedAttachment[];
	/** Credentials the client authenticated with, when it did. */
	auth?: { username: string; password: string };
	receivedAt: Date;
}

export interface RecordedAttachment {
	/** From Content-Disposition's `filename`, else Content-Type's `name`; '' when neither. */
	filename: string;
	/** The media type without parameters, lower-cased, e.g. `application/pdf`. */
	contentType: string;
	/** `attachment` or `inline`, lower-cased; '' without a Content-Disposition. */
	disposition: string;
	content: Buffer;
}

export interface SmtpSink {
	host: string;
	port: number;
	messages: RecordedMessage[];
	/** Resolves with all messages once at least `count` have arrived. */
	waitFor(count: number, options?: WaitOptions): Promise<RecordedMessage[]>;
	clear(): void;
	close(): Promise<void>;
}

function decodeTransfer(body: string, encoding: string | undefined): Buffer {
	switch ((encoding ?? '').toLowerCase()) {
		case 'base64':
			return Buffer.from(body.replace(/\s+/g, ''), 'base64');
		case 'quoted-printable':
			return Buffer.from(
				body
					.replace(/=\r?\n/g, '')
					.replace(/=([0-9A-Fa-f]{2})/g, (_match, hex: string) =>
						String.fromCharCode(parseInt(hex, 16)),
					),
				'latin1',
			);
		default:
			return Buffer.from(body, 'utf8');
	}
}

/** A header parameter (`name="x"` or `name=x`) of a header value such as Content-Type. */
function headerParameter(value: string | undefined, name: string): string | undefined {
	const match = new RegExp(`;\\s*${name}="([^"]*)"|;\\s*${name}=([^;\\s]+)`, 'i').exec(value ?? '');
	return match ? (match[1] ?? match[2]) : undefined;
}

interface MimeLeaf {
	headers: Record<string, string>;
	body: string;
}

/** The leaf parts of a message, looking into nested multipart bodies, in order. */
function leafParts(headers: Record<string, string>, body: string): MimeLeaf[] {
	const contentType = headers['content-type'] ?? 'text/plain';
	const boundary = headerParameter(contentType, 'boundary');
	if (!/^multipart\//i.test(contentType) || !boundary) return [{ headers, body }];
	const leaves: MimeLeaf[] = [];
	for (const part of body.split(`--${boundary}`).slice(1)) {
		if (part.startsWith('--')) break;
		const parsed = splitMessage(part.replace(/^\r?\n/, ''));
		leaves.push(...leafParts(parsed.headers, parsed.body));
	}
	return leaves;
}

/** The decoded text/plain and text/html bodies and the attached files of a message. */
function decodedContent(
	headers: Record<string, string>,
	body: string,
): { text: string; html: string; attachments: RecordedAttachment[] } {
	const found = { text: '', html: '', attachments: [] as RecordedAttachment[] };
	for (const leaf of leafParts(headers, body)) {
		const contentType = leaf.headers['content-type'] ?? 'text/plain';
		const dispositionHeader = leaf.headers['content-disposition'];
		const filename =
			headerParameter(dispositionHeader, 'filename') ?? headerParameter(contentType, 'name');
		const content = decodeTransfer(leaf.body, leaf.headers['content-transfer-encoding']);
		if (filename !== undefined || !/^text\/(plain|html)\b/i.test(contentType)) {
			found.attachments.push({
				filename: filename ?? '',
				contentType: contentType.split(';')[0].trim().toLowerCase(),
				disposition: (dispositionHeader ?? '').split(';')[0].trim().toLowerCase(),
				content,
			});
			continue;
		}
		const decoded = content.toString('utf8').replace(/\n$/, '');
		if (/^text\/html/i.test(contentType)) found.html ||= decoded;
		else found.text ||= decoded;
	}
	return found;
}

function splitMessage(raw: string): { headers: Record<string, string>; body: string } {
	const normalized = raw.replace(/\r\n/g, '\n');
	const end = normalized.indexOf('\n\n');
	const headerBlock = end === -1 ? normalized : normalized.slice(0, end);
	const body = end === -1 ? '' : normalized.slice(end + 2);
	const headers: Record<string, string> = {};
	for (const line of headerBlock.replace(/\n[ \t]+/g, ' ').split('\n')) {
		const colon = line.indexOf(':');
		if (colon <= 0) continue;
		const name = line.slice(0, colon).trim().toLowerCase();
		const value = line.slice(colon + 1).trim();
		headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
	}
	return { headers, body };
}

/**
 * An SMTP server on 127.0.0.1 without TLS that accepts any sender, recipient and credentials and
 * records each message, for n8n's email nodes and error notifications.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
	const messages: RecordedMessage[] = [];
	const server = new SMTPServer({
		secure: false,
		disabledCommands: ['STARTTLS'],
		authOptional: true,
		allowInsecureAuth: true,
		logger: false,
		// A client that keeps its connection open must not hold a test's teardown for the default 30 s.
		closeTimeout: 1_000,
		onAuth(auth, session, callback) {
			callback(null, { user: { username: auth.username ?? '', password: auth.password ?? '' } });
		},
		onData(stream, session, callback) {
			const chunks: Buffer[] = [];
			stream.on('data', (chunk: Buffer) => chunks.push(chunk));
			stream.on('end', () => {
				const raw = Buffer.concat(chunks).toString('utf8');
				const parsed = splitMessage(raw);
				const user = session.user as { username: string; password: string } | undefined;
				messages.push({
					from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
					to: session.envelope.rcptTo.map((recipient) => recipient.address),
					raw,
					...parsed,
					...decodedContent(parsed.headers, parsed.body),
					auth: user,
					receivedAt: new Date(),
				});
				callback();
			});
		},
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const { port } = server.server.address() as AddressInfo;

	return {
		host: '127.0.0.1',
		port,
		messages,
		async waitFor(count, options) {
			return await waitFor(
				() => {
					if (messages.length < count) throw new Error(`${messages.length} so far`);
					return [...messages];
				},
				{ description: `${count} message(s) at the SMTP sink`, ...options },
			);
		},
		clear() {
			messages.length = 0;
		},
		async close() {
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
