// Headless Chromium (Debian's) through playwright-core: a page on another origin calls the API
// with fetch and must be able to read the headers a front end needs; then /docs and /redoc must
// render with no request leaving this machine.
import { type BrowserContext, chromium, type Page, type Request } from "playwright-core";

import { Checks, settings } from "./common.js";

const checks = new Checks("browser");
const { api, username, password, tag } = settings();
const pageUrl = process.env.PAGE_URL ?? "";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const artifacts = process.env.ARTIFACTS;

function isLocal(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true;
  return ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
}

/** Requests that left for another host (they are blocked, and each one is a failure). */
function outsideRequests(page: Page): string[] {
  const outside: string[] = [];
  page.on("request", (request: Request) => {
    if (!isLocal(request.url())) outside.push(`${request.method()} ${request.url()}`);
  });
  return outside;
}

/** Whether the server sets Location on a create (asked from Node, where no CORS applies). */
async function serverSetsLocation(token: string): Promise<boolean> {
  const response = await fetch(`${api}/api/portfolios/`, {
    method: "POST",
    headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ title: `Location probe ${tag}` }),
  });
  return response.headers.get("Location") !== null;
}

async function main(): Promise<void> {
  checks.check("the page is on another origin than the API", new URL(pageUrl).origin !== new URL(api).origin, pageUrl);
  const browser = await chromium.launch({ executablePath, headless: true });
  try {
    const context = await browser.newContext();
    // Nothing leaves the machine: anything for another host is aborted (and counted below).
    await context.route("**/*", (route) => (isLocal(route.request().url()) ? route.continue() : route.abort()));
    await crossOrigin(context);
    await docs(context, "/docs", "Swagger UI shows the operations", ".opblock");
    await docs(context, "/redoc", "ReDoc renders its sidebar", ".menu-content li");
  } finally {
    await browser.close();
  }
}

async function crossOrigin(context: BrowserContext): Promise<void> {
  const page = await context.newPage();
  const outside = outsideRequests(page);
  const opened = await page.goto(pageUrl);
  checks.equal("the test page loads", opened?.status(), 200);

  // Everything below runs in the page: fetch from its origin, headers as JavaScript sees them.
  const seen = await page.evaluate(
    async ({ api, username, password, tag }) => {
      const call = async (path: string, init: RequestInit = {}) => {
        try {
          const response = await fetch(`${api}${path}`, init);
          const text = await response.text();
          const header = (name: string) => response.headers.get(name);
          return {
            status: response.status,
            text,
            requestId: header("X-Request-ID"),
            retryAfter: header("Retry-After"),
            allow: header("Allow"),
            wwwAuthenticate: header("WWW-Authenticate"),
            etag: header("ETag"),
            location: header("Location"),
            error: "",
          };
        } catch (error) {
          return {
            status: 0,
            text: "",
            requestId: null,
            retryAfter: null,
            allow: null,
            wwwAuthenticate: null,
            etag: null,
            location: null,
            error: `fetch failed (CORS?): ${String(error)}`,
          };
        }
      };
      const json = (body: object, token?: string): RequestInit => ({
        headers: token
          ? { "Content-Type": "application/json", Authorization: `Token ${token}` }
          : { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });

      const login = await call("/api/auth/token/", { method: "POST", ...json({ username, password }) });
      const parsed: unknown = login.status === 200 ? JSON.parse(login.text) : null;
      const token =
        typeof parsed === "object" && parsed !== null && "token" in parsed && typeof parsed.token === "string"
          ? parsed.token
          : "";
      const unauthenticated = await call("/api/portfolios/");
      const wrongMethod = await call("/api/portfolios/", {
        method: "PUT",
        headers: { Authorization: `Token ${token}` },
      });
      const created = await call("/api/portfolios/", {
        method: "POST",
        ...json({ title: `صفحه ${tag}` }, token),
      });
      const createdBody: unknown = created.status === 201 ? JSON.parse(created.text) : null;
      const id =
        typeof createdBody === "object" && createdBody !== null && "id" in createdBody ? String(createdBody.id) : "0";
      const read = await call(`/api/portfolios/${id}`, { headers: { Authorization: `Token ${token}` } });
      // A PATCH with JSON, Authorization and If-Match: a preflight first, then the write.
      const patched = await call(`/api/portfolios/${id}`, {
        method: "PATCH",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Token ${token}`,
          "If-Match": read.etag ?? "*",
        },
        body: JSON.stringify({ title: `صفحه تازه ${tag}` }),
      });
      // Failed logins for one username from one address until the throttle answers 429.
      const failures = [];
      for (let attempt = 0; attempt < 12; attempt += 1) {
        const failed = await call("/api/auth/token/", {
          method: "POST",
          ...json({ username: `nobody-${tag}`, password: "wrong password" }),
        });
        failures.push(failed);
        if (failed.status === 429 || failed.status === 0) break;
      }
      return { origin: window.location.origin, login, token, unauthenticated, wrongMethod, created, read, patched, failures };
    },
    { api, username, password, tag },
  );

  checks.check("the calls came from the page's origin", seen.origin === new URL(pageUrl).origin, seen.origin);
  checks.check("login from the page (JSON: a preflight) answers 200", seen.login.status === 200, seen.login.error || seen.login.text);
  checks.check("X-Request-ID readable on the login", seen.login.requestId !== null);
  checks.check("401 without a token", seen.unauthenticated.status === 401, seen.unauthenticated.error || seen.unauthenticated.text);
  checks.check("X-Request-ID readable on a 401", seen.unauthenticated.requestId !== null);
  checks.check(
    "WWW-Authenticate readable on a 401",
    seen.unauthenticated.wwwAuthenticate !== null,
    "null: not in Access-Control-Expose-Headers",
  );
  checks.check("405 for PUT /api/portfolios/", seen.wrongMethod.status === 405, seen.wrongMethod.error || seen.wrongMethod.text);
  checks.check("Allow readable on a 405", seen.wrongMethod.allow !== null, "null: not in Access-Control-Expose-Headers");
  checks.check("X-Request-ID readable on a 405", seen.wrongMethod.requestId !== null);
  checks.check("create a portfolio from the page answers 201", seen.created.status === 201, seen.created.error || seen.created.text);
  checks.check("GET /api/portfolios/{id} answers 200", seen.read.status === 200, seen.read.error || seen.read.text);
  checks.check("ETag readable on GET /api/portfolios/{id}", seen.read.etag !== null, "null: not in Access-Control-Expose-Headers");
  checks.check("X-Request-ID readable on GET /api/portfolios/{id}", seen.read.requestId !== null);
  checks.check(
    "PATCH with JSON, Authorization and If-Match (preflight) answers 200",
    seen.patched.status === 200,
    seen.patched.error || `${seen.patched.status} ${seen.patched.text}`,
  );
  if (await serverSetsLocation(seen.token)) {
    checks.check("Location readable on a 201", seen.created.location !== null, "null: not in Access-Control-Expose-Headers");
  } else {
    console.log("skip browser: Location (the server sets no Location on a 201)");
  }
  const throttled = seen.failures[seen.failures.length - 1];
  const statuses = seen.failures.map((failure) => failure.status).join(",");
  checks.check("failed logins end in 429", throttled?.status === 429, `statuses ${statuses}`);
  checks.check(
    "Retry-After readable on a 429",
    throttled !== undefined && throttled.retryAfter !== null,
    "null: not in Access-Control-Expose-Headers",
  );
  checks.check("X-Request-ID readable on a 429", throttled !== undefined && throttled.requestId !== null);
  checks.check("the test page made no request off this machine", outside.length === 0, outside.join(" "));
  await page.close();
}

async function docs(context: BrowserContext, path: string, what: string, selector: string): Promise<void> {
  const page = await context.newPage();
  const outside = outsideRequests(page);
  const failedLocal: string[] = [];
  page.on("requestfailed", (request: Request) => {
    if (isLocal(request.url())) failedLocal.push(`${request.url()} ${request.failure()?.errorText ?? ""}`);
  });
  const opened = await page.goto(`${api}${path}`);
  checks.equal(`${path} answers 200`, opened?.status(), 200);
  let rendered = 0;
  try {
    await page.locator(selector).first().waitFor({ timeout: 30_000 });
    rendered = await page.locator(selector).count();
  } catch (error) {
    console.log(`${path}: ${String(error)}`);
  }
  checks.check(`${path}: ${what}`, rendered > 0, `no ${selector} within 30 s`);
  // Whatever loads late (fonts, logos, the validator badge) has had its chance.
  await page.waitForLoadState("networkidle", { timeout: 15_000 }).catch(() => undefined);
  await page.waitForTimeout(500);
  if (artifacts) {
    await page.screenshot({ path: `${artifacts}/browser${path.replace(/\//g, "-")}.png`, fullPage: false });
  }
  checks.check(`${path}: no request leaves this machine`, outside.length === 0, `blocked: ${outside.join(" ")}`);
  checks.check(`${path}: every local request succeeds`, failedLocal.length === 0, failedLocal.join(" "));
  await page.close();
}

main().then(
  () => checks.finish(),
  (error: unknown) => checks.finish(error),
);
