// Talking to `qrscu serve` from a test as a browser would: the login form's pre-session cookie and
// CSRF token, a login, a page's token, a form POST (redirects are answered, not followed).

/** The CSRF token in a page's forms. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

/** GET /login: the pre-session cookie ("qrscu_pre=…") and the login form's token. */
export async function loginForm(url: string): Promise<{ cookie: string; token: string }> {
  const page = await fetch(`${url}/login`);
  return { cookie: page.headers.get('set-cookie')!.split(';')[0]!, token: csrfOf(await page.text()) };
}

/** POST a form (the fields are URL-encoded here) with a cookie; the answer, redirects not followed. */
export function postForm(url: string, cookie: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
}

/** POST /login through `form`: 303 and a session cookie, or the page with the error. */
export function postLogin(url: string, form: { cookie: string; token: string }, username: string, password: string): Promise<Response> {
  return postForm(`${url}/login`, form.cookie, { _csrf: form.token, username, password });
}

/** The session cookie ("qrscu_session=…") of a login response. */
export function sessionOf(r: Response): string {
  const c = r.headers.getSetCookie().find((x) => x.startsWith('qrscu_session='));
  if (!c) throw new Error(`no session cookie (HTTP ${r.status})`);
  return c.split(';')[0]!;
}

/** Log in; the session cookie. */
export async function logIn(url: string, username: string, password: string): Promise<string> {
  return sessionOf(await postLogin(url, await loginForm(url), username, password));
}
