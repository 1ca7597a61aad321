import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

import {
	postgresUnavailableReason,
	startPostgres,
	type PostgresServer,
} from '../../../dev/n8n/postgresServer';
import { waitFor } from '../../../dev/n8n/wait';

const repoRoot = resolve(__dirname, '..', '..', '..');
const modulePath = join(repoRoot, 'dev', 'n8n', 'postgresServer.ts');

/** Resolves with the error code of a refused connection, or 'connected'. */
async function tryConnect(port: number): Promise<string> {
	return await new Promise((resolveResult) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolveResult('connected');
		});
		socket.once('error', (error: NodeJS.ErrnoException) => resolveResult(error.code ?? 'error'));
	});
}

/** Whether the process exists and is not a zombie (exited, not yet reaped by its parent). */
function isRunning(pid: number): boolean {
	try {
		// The state follows the parenthesised command name, which may itself contain spaces.
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
	} catch {
		return false;
	}
}

interface Handshake {
	/** 0 is AuthenticationOk; anything else is the server asking for a password. */
	authentication: number;
	/** ParameterStatus messages the server sent after authenticating. */
	parameters: Record<string, string>;
}

/**
 * Logs in with the protocol directly, as a Node client without libpq (n8n's `pg`) does, using
 * n8n's settings: no password offered.
 */
async function startupHandshake(env: Record<string, string>): Promise<Handshake> {
	return await new Promise((resolveHandshake, reject) => {
		const socket = connect(Number(env.DB_POSTGRESDB_PORT), env.DB_POSTGRESDB_HOST);
		const parameters: Record<string, string> = {};
		let authentication = -1;
		let received = Buffer.alloc(0);
		const finish = (error?: Error) => {
			socket.destroy();
			if (error) reject(error);
			else resolveHandshake({ authentication, parameters });
		};
		socket.once('error', finish);
		socket.once('connect', () => {
			const pairs = Buffer.from(
				`user\0${env.DB_POSTGRESDB_USER}\0database\0${env.DB_POSTGRESDB_DATABASE}\0\0`,
			);
			const header = Buffer.alloc(8);
			header.writeInt32BE(8 + pairs.length, 0);
			header.writeInt32BE(3 << 16, 4); // protocol 3.0
			socket.write(Buffer.concat([header, pairs]));
		});
		socket.on('data', (chunk: Buffer) => {
			received = Buffer.concat([received, chunk]);
			while (received.length >= 5 && received.length >= 1 + received.readInt32BE(1)) {
				const type = String.fromCharCode(received[0]);
				const body = received.subarray(5, 1 + received.readInt32BE(1));
				received = received.subarray(1 + received.readInt32BE(1));
				if (type === 'R') {
					authentication = body.readInt32BE(0);
					if (authentication !== 0) return finish();
				} else if (type === 'S') {
					const [name, value] = body.toString('utf8').split('\0');
					parameters[name] = value;
				} else if (type === 'E') {
					return finish(new Error(`server refused the login: ${body.toString('utf8')}`));
				} else if (type === 'Z') {
					socket.write(Buffer.from([0x58, 0, 0, 0, 4])); // Terminate
					return finish();
				}
			}
		});
	});
}

describe('startPostgres', () => {
	let server: PostgresServer;
	let dataDirectory: string;

	beforeAll(async () => {
		// CI installs PostgreSQL first, so its absence is a failure to report, not a reason to skip.
		const reason = postgresUnavailableReason();
		if (reason !== undefined) throw new Error(reason);
		server = await startPostgres();
		dataDirectory = await server.query('postgres', 'SHOW data_directory');
	}, 120_000);

	afterAll(async () => {
		await server?.stop();
	});

	it('runs a cluster on loopback with the test settings', async () => {
		expect(server.host).toBe('127.0.0.1');
		expect(server.port).toBeGreaterThan(0);
		expect(server.port).not.toBe(5432);
		const settings = await server.query(
			'postgres',
			[
				'SHOW listen_addresses',
				'SHOW port',
				'SHOW fsync',
				'SHOW synchronous_commit',
				'SHOW full_page_writes',
				'SHOW max_connections',
				'SHOW server_encoding',
				'SELECT current_user',
				'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
			].join(';\n'),
		);
		const [listen, port, fsync, syncCommit, fullPages, maxConnections, encoding, user, superuser] =
			settings.split('\n');
		expect({ listen, port, fsync, syncCommit, fullPages, encoding, user, superuser }).toEqual({
			listen: '127.0.0.1',
			port: String(server.port),
			fsync: 'off',
			syncCommit: 'off',
			fullPages: 'off',
			encoding: 'UTF8',
			user: server.user,
			superuser: 't',
		});
		expect(Number(maxConnections)).toBeGreaterThanOrEqual(100);
		// Its own temp folder, not a system cluster.
		expect(dataDirectory).toMatch(/n8n-postgres-[^/]+\/data$/);
		expect(existsSync(dataDirectory)).toBe(true);
	});

	it('creates separate databases, and a table in one is absent from the other', async () => {
		const first = await server.createDatabase();
		const second = await server.createDatabase();
		const named = await server.createDatabase('named_database');
		expect(first).not.toBe(second);
		expect(named).toBe('named_database');
		const databases = await server.query('postgres', 'SELECT datname FROM pg_database');
		expect(databases.split('\n')).toEqual(expect.arrayContaining([first, second, named]));

		expect(
			await server.query(
				first,
				"CREATE TABLE orders (id int, status text);\nINSERT INTO orders VALUES (1, 'completed');\n" +
					'SELECT id, status FROM orders',
			),
		).toBe('1|completed');
		expect(await server.query(first, 'SELECT count(*) FROM orders')).toBe('1');
		expect(await server.query(second, "SELECT to_regclass('public.orders') IS NULL")).toBe('t');
		await expect(server.query(second, 'SELECT * FROM orders')).rejects.toThrow(
			/relation "orders" does not exist/,
		);

		await server.dropDatabase(named);
		expect(
			(await server.query('postgres', 'SELECT datname FROM pg_database')).split('\n'),
		).not.toContain(named);
	});

	it('describes a database in the environment n8n reads, and clients log in with it', async () => {
		const database = await server.createDatabase();
		await server.query(
			database,
			"CREATE TABLE marker (value text); INSERT INTO marker VALUES ('here')",
		);
		const env = server.n8nEnvironment(database);
		expect(env).toEqual({
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(server.port),
			DB_POSTGRESDB_DATABASE: database,
			DB_POSTGRESDB_USER: server.user,
			DB_POSTGRESDB_PASSWORD: '',
			DB_POSTGRESDB_SCHEMA: 'public',
		});

		const handshake = await startupHandshake(env);
		expect(handshake.authentication).toBe(0);
		expect(handshake.parameters.server_encoding).toBe('UTF8');
		expect(handshake.parameters.session_authorization).toBe(server.user);

		// libpq given nothing but those values, over TCP; the server names its own psql's folder.
		const bin = await server.query(
			'postgres',
			"SELECT setting FROM pg_config WHERE name = 'BINDIR'",
		);
		const { stdout } = await promisify(execFile)(
			join(bin, 'psql'),
			['-X', '-A', '-t', '-w', '-c', 'SELECT value FROM marker'],
			{
				env: {
					PGHOST: env.DB_POSTGRESDB_HOST,
					PGPORT: env.DB_POSTGRESDB_PORT,
					PGDATABASE: env.DB_POSTGRESDB_DATABASE,
					PGUSER: env.DB_POSTGRESDB_USER,
					PGPASSWORD: env.DB_POSTGRESDB_PASSWORD,
					PGOPTIONS: `-c search_path=${env.DB_POSTGRESDB_SCHEMA}`,
				},
			},
		);
		expect(stdout.trim()).toBe('here');
	});

	it('stops: the port refuses connections and the folder is gone', async () => {
		expect(await tryConnect(server.port)).toBe('connected');
		await server.stop();
		expect(await tryConnect(server.port)).toBe('ECONNREFUSED');
		expect(existsSync(dirname(dataDirectory))).toBe(false);
		await expect(server.stop()).resolves.toBeUndefined();
	});
});

/**
 * Starts a server in a child process, reports it and ends without stop(): by exiting once told to
 * on stdin, or by the parent's SIGTERM (stdin keeps it alive until then).
 */
const childScript = [
	"const { readFileSync } = require('node:fs');",
	`const { startPostgres } = require(${JSON.stringify(modulePath)});`,
	'startPostgres().then(async (server) => {',
	"	const dataDirectory = await server.query('postgres', 'SHOW data_directory');",
	"	const pidFile = readFileSync(dataDirectory + '/postmaster.pid', 'utf8');",
	"	const postmasterPid = Number(pidFile.split('\\n')[0]);",
	'	console.log(JSON.stringify({ port: server.port, dataDirectory, postmasterPid }));',
	"	process.stdin.once('data', () => process.exit(0));",
	'});',
].join('\n');

describe('a process that ends without stop()', () => {
	beforeAll(() => {
		const reason = postgresUnavailableReason();
		if (reason !== undefined) throw new Error(reason);
	});

	it.each([
		['exits', 0],
		['is sent SIGTERM', 128 + 15],
	])(
		'takes its cluster down when it %s',
		async (how, expectedCode) => {
			const child = spawn(process.execPath, ['--import', 'tsx', '-e', childScript], {
				cwd: repoRoot,
				stdio: ['pipe', 'pipe', 'inherit'],
			});
			const exited = new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
			const firstLine = await new Promise<string>((resolveLine, reject) => {
				createInterface({ input: child.stdout }).once('line', resolveLine);
				child.once('exit', (code) =>
					reject(new Error(`child exited with ${code} before starting`)),
				);
			});
			const { port, dataDirectory, postmasterPid } = JSON.parse(firstLine) as {
				port: number;
				dataDirectory: string;
				postmasterPid: number;
			};
			expect(await tryConnect(port)).toBe('connected');
			expect(isRunning(postmasterPid)).toBe(true);

			if (how === 'exits') child.stdin.write('exit\n');
			else child.kill('SIGTERM');
			expect(await exited).toBe(expectedCode);
			expect(existsSync(dirname(dataDirectory))).toBe(false);
			// The immediate shutdown finishes just after the child is gone. A postmaster whose folder
			// was deleted also gives up by itself, but only after many seconds, hence the short wait.
			await waitFor(() => (isRunning(postmasterPid) ? undefined : true), {
				timeoutMs: 5_000,
				intervalMs: 50,
				description: `postmaster ${postmasterPid} to exit`,
			});
			expect(await tryConnect(port)).toBe('ECONNREFUSED');
		},
		120_000,
	);
});
