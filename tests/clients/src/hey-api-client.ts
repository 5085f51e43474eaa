// A front-end developer's program: the SDK and types of @hey-api/openapi-ts, its fetch client.
import { client } from "../generated/hey-api/client.gen.js";
import { createClient, createConfig } from "../generated/hey-api/client/index.js";
import {
  createPortfolio,
  createPortfolioLink,
  deletePortfolioLink,
  getMedia,
  getPortfolioLink,
  listPortfolioLinks,
  listPortfolios,
  obtainToken,
  updatePortfolioLink,
  uploadMedia,
} from "../generated/hey-api/index.js";
import { ascending, Checks, png, settings, withoutTrailingSlash } from "./common.js";

const checks = new Checks("hey-api");
const { api, username, password, tag } = settings();

async function main(): Promise<void> {
  client.setConfig({ baseUrl: api });

  // Login, then the token on every request that the document says needs one (TokenAuth).
  const login = await obtainToken({ body: { username, password } });
  checks.equal("login answers 200", login.response.status, 200);
  const token = checks.need("login returns a token", login.data?.token, JSON.stringify(login.error));
  const auth = (scheme: { type: string }): string | undefined =>
    scheme.type === "apiKey" ? `Token ${token}` : undefined;
  client.setConfig({ auth });

  // Portfolios with only a title (is_active and order have server defaults), one not Persian.
  const titles = [`طراحی وب ${tag}`, `طراحی گرافیک ${tag}`, `Music ${tag}`];
  const created: number[] = [];
  for (const title of titles) {
    const made = await createPortfolio({ body: { title } });
    checks.equal(`create portfolio "${title}" answers 201`, made.response.status, 201);
    const portfolio = checks.need(`create portfolio "${title}" returns it`, made.data, JSON.stringify(made.error));
    checks.equal(`portfolio "${title}" keeps its title`, portfolio.title, title);
    checks.equal(`portfolio "${title}" is active by default`, portfolio.is_active, true);
    checks.equal(`portfolio "${title}" has order 0 by default`, portfolio.order, 0);
    created.push(portfolio.id);
  }
  const [webDesign, graphicDesign, music] = created;

  // Search in Persian, two orderings.
  for (const ordering of ["-id", "title"]) {
    const listed = await listPortfolios({ query: { search: "طراحی", ordering, limit: 100 } });
    checks.equal(`search "طراحی" ordering ${ordering} answers 200`, listed.response.status, 200);
    const page = checks.need(`search "طراحی" ordering ${ordering} returns a page`, listed.data, JSON.stringify(listed.error));
    const ids = page.results.map((portfolio) => portfolio.id);
    checks.check(
      `search "طراحی" finds both Persian titles (ordering ${ordering})`,
      ids.includes(webDesign) && ids.includes(graphicDesign),
      `ids ${ids.join(",")}`,
    );
    checks.check(`search "طراحی" leaves out "Music" (ordering ${ordering})`, !ids.includes(music));
    checks.check(
      `search "طراحی" results contain the word (ordering ${ordering})`,
      page.results.every((portfolio) => portfolio.title.includes("طراحی")),
    );
    const inOrder =
      ordering === "title"
        ? ascending(page.results.map((portfolio) => portfolio.title))
        : ascending(page.results.map((portfolio) => -portfolio.id));
    checks.check(`ordering ${ordering} is followed`, inOrder, `ids ${ids.join(",")}`);
  }

  // A link through the documented path (with the slash), with only a name and a URL.
  const portfolioId = webDesign;
  const first = await createPortfolioLink({
    path: { portfolio_id: portfolioId },
    body: { name: "وب‌سایت", url: "https://example.com/site" },
  });
  checks.equal("create link (trailing slash) answers 201", first.response.status, 201);
  const link = checks.need("create link (trailing slash) returns it", first.data, JSON.stringify(first.error));
  checks.equal("the new link has order 0 by default", link.order, 0);
  checks.equal("the new link keeps its name", link.name, "وب‌سایت");

  // The same operation without the trailing slash: a second client whose request interceptor
  // trims the URL; the call and its result keep the SDK's types.
  const noSlash = createClient(createConfig({ baseUrl: api, auth }));
  noSlash.interceptors.request.use(withoutTrailingSlash);
  const second = await createPortfolioLink({
    client: noSlash,
    path: { portfolio_id: portfolioId },
    body: { name: "GitHub", url: "https://example.com/code" },
  });
  checks.equal("create link (no trailing slash) answers 201", second.response.status, 201);
  checks.equal(
    "create link (no trailing slash) went to .../links",
    second.response.url,
    `${api}/api/portfolios/${portfolioId}/links`,
  );
  checks.equal("create link (no trailing slash) was not redirected", second.response.redirected, false);
  checks.need("create link (no trailing slash) returns it", second.data, JSON.stringify(second.error));

  const links = await listPortfolioLinks({ path: { portfolio_id: portfolioId }, query: { ordering: "id" } });
  checks.equal("list links counts both", links.data?.count, 2);

  // Patch the link, with the ETag that created it.
  const etag = first.response.headers.get("ETag");
  checks.check("create link sends an ETag", etag !== null);
  const patched = await updatePortfolioLink({
    path: { portfolio_id: portfolioId, id: link.id },
    headers: { "If-Match": etag },
    body: { name: "وب‌سایت تازه", order: 5 },
  });
  checks.equal("patch link answers 200", patched.response.status, 200);
  checks.equal("patch link changes the name", patched.data?.name, "وب‌سایت تازه");
  checks.equal("patch link changes the order", patched.data?.order, 5);
  checks.equal("patch link keeps the URL", patched.data?.url, "https://example.com/site");

  // Upload an image as multipart: the SDK builds the form from a Blob.
  const image = new File([png(300, 200)], "gradient.png", { type: "image/png" });
  const uploaded = await uploadMedia({ body: { file: image, name: `تصویر ${tag}`, alt: "یک شیب رنگی" } });
  checks.equal("upload image answers 201", uploaded.response.status, 201);
  const media = checks.need("upload image returns the file", uploaded.data, JSON.stringify(uploaded.error));
  checks.equal("uploaded file keeps its name", media.name, `تصویر ${tag}`);
  checks.equal("uploaded file keeps its alt text", media.alt, "یک شیب رنگی");
  if (checks.check("uploaded file is an image", media.type === "image", `type ${media.type}`) && media.type === "image") {
    const width: number = media.width;
    const height: number = media.height;
    checks.equal("image width", width, 300);
    checks.equal("image height", height, 200);
    checks.check("image has thumbnails", media.thumbnails.length > 0);
    const thumbnail = media.thumbnails[0];
    if (thumbnail) {
      const got = await fetch(thumbnail.f);
      checks.equal("a thumbnail can be downloaded", got.status, 200);
      checks.equal("a thumbnail is a PNG", got.headers.get("Content-Type"), "image/png");
    }
  }

  const read = await getMedia({ path: { id: media.id } });
  checks.equal("get media answers 200", read.response.status, 200);
  const again = read.data;
  checks.check(
    "get media returns the image with its width",
    again !== undefined && again.type === "image" && again.width === 300,
    JSON.stringify(again),
  );

  // Delete the link (204), then it is gone.
  const deleted = await deletePortfolioLink({ path: { portfolio_id: portfolioId, id: link.id } });
  checks.equal("delete link answers 204", deleted.response.status, 204);
  const gone = await getPortfolioLink({ path: { portfolio_id: portfolioId, id: link.id } });
  checks.equal("a deleted link answers 404", gone.response.status, 404);
}

main().then(
  () => checks.finish(),
  (error: unknown) => checks.finish(error),
);
