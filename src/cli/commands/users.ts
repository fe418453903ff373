// `qrscu users add|list|remove|passwd`: the logins of the web page (`qrscu serve`), in the database
// of the qrscu home. Passwords are kept as salted scrypt hashes only.

import { ConfigError, ErrorCode } from '../../errors.js';
import type { UserRole } from '../../db/schema.js';
import { checkPassword } from '../../db/users.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface UsersArgs {
  home?: string;
  name?: string;
  role?: string;
  password?: string;
  json?: boolean;
}


/** The password: --password, else $QRSCU_PASSWORD, else the first line of stdin. */
async function readPassword(a: UsersArgs, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let password = a.password ?? process.env.QRSCU_PASSWORD;
  if (password === undefined) {
    const chunks: Buffer[] = [];
    for await (const c of stdin) {
      chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
      if (chunks.some((b) => b.includes(10))) break;
    }
    password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  checkPassword(password);
  return password;
}

function role(r: string | undefined): UserRole {
  if (r === 'admin' || r === 'user' || r === 'viewer') return r;
  throw new ConfigError(ErrorCode.Usage, `--role must be admin, user or viewer, not ${JSON.stringify(r)}`);
}

export async function runUsers(action: 'add' | 'list' | 'remove' | 'passwd', a: UsersArgs, out: Output): Promise<ExitCode> {
  const { openDatabase, hashPassword } = await import('../../db/index.js');
  if (action === 'list') {
    const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), readOnly: true });
    const users = db.users();
    if (a.json) for (const u of users) out.line(JSON.stringify({ name: u.name, role: u.role, createdAt: u.createdAt }));
    else if (users.length === 0) out.line('No users: add one with qrscu users add NAME --role admin');
    else for (const u of users) out.line(`${u.name.padEnd(20)} ${u.role.padEnd(7)} since ${u.createdAt}`);
    return ExitCode.Ok;
  }
  const name = a.name ?? '';
  const r = action === 'add' ? role(a.role ?? 'user') : a.role !== undefined ? role(a.role) : undefined;
  const passwordHash = action === 'add' || action === 'passwd' ? await hashPassword(await readPassword(a)) : undefined;
  const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), onWarning: (m) => out.error(`qrscu: ${m}`) });
  try {
    if (action === 'add') {
      db.addUser({ name, role: r!, passwordHash: passwordHash! });
      out.line(`user ${name} added (${r})`);
    } else if (action === 'passwd') {
      db.editUser(name, { passwordHash: passwordHash!, ...(r ? { role: r } : {}) });
      out.line(`password of ${name} changed`);
    } else {
      db.removeUser(name);
      out.line(`user ${name} removed`);
    }
  } finally {
    await db.close();
  }
  return ExitCode.Ok;
}
