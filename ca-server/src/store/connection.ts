import { mkdir, open } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Knex } from 'knex';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** Directory holding `wardcert.db`; used when no url is given. */
  dataDir?: string;
  /** `postgres://...`, `postgresql://...` or `sqlite:/absolute/path.db`; wins over dataDir. */
  url?: string;
}

/** How long a write waits for another process (a CLI command beside the server) to release the file. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** The slice of a node-sqlite3 Database that the pool hook needs. */
interface SqliteConnection {
  exec(sql: string, callback: (err: Error | null) => void): void;
}

export async function connectionConfig(opts: StoreOptions): Promise<{ dialect: Dialect; config: Knex.Config }> {
  const target = resolveTarget(opts);
  if (target.dialect === 'postgres') {
    return { dialect: 'postgres', config: { client: 'pg', connection: target.url } };
  }
  await createPrivateFile(target.file);
  return {
    dialect: 'sqlite',
    config: {
      client: 'sqlite3',
      connection: { filename: target.file },
      useNullAsDefault: true,
      pool: {
        // foreign_keys, busy_timeout and synchronous are per connection; journal_mode=WAL sticks to
        // the file. With WAL, synchronous=NORMAL syncs at checkpoints instead of at every commit: a
        // power cut may lose the last commits, never corrupt the database (sqlite.org/wal.html).
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
          conn.exec(
            `PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`,
            (err) => done(err, conn),
          );
        },
      },
    },
  };
}

type Target = { dialect: 'postgres'; url: string } | { dialect: 'sqlite'; file: string };

function resolveTarget({ url, dataDir }: StoreOptions): Target {
  if (url !== undefined) {
    if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', url };
    if (url.startsWith('sqlite:')) {
      // Accept both sqlite:/abs/path.db and sqlite:///abs/path.db.
      const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (!isAbsolute(file)) throw new Error('a sqlite: store URL needs an absolute path');
      return { dialect: 'sqlite', file };
    }
    // Name only the scheme: the rest of a URL may hold a password.
    throw new Error(`unsupported store URL scheme "${url.split(':', 1)[0]}"`);
  }
  if (dataDir !== undefined) return { dialect: 'sqlite', file: join(resolve(dataDir), 'wardcert.db') };
  throw new Error('the store needs a dataDir or a url');
}

/**
 * The database will hold secrets such as EAB keys. SQLite gives its -wal and -shm files the mode
 * of the database file, so creating that file 0600 keeps all three private. An existing file keeps
 * whatever mode the operator chose, and is not opened here at all.
 */
async function createPrivateFile(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx' never opens an existing file: closing any descriptor of a database file would drop the
    // POSIX locks SQLite holds on it in this process.
    await (await open(file, 'wx', 0o600)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
