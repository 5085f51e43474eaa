// The programs in src/ stay honest about types: no `as` casts (nor `<T>x`), no `any`, no
// non-null `!`, no @ts-ignore / @ts-expect-error / @ts-nocheck. Exits 1 and lists each one.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const folder = path.join(here, "src");
const problems = [];

for (const name of fs.readdirSync(folder).filter((file) => file.endsWith(".ts")).sort()) {
  const file = path.join(folder, name);
  const text = fs.readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const report = (node, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
    problems.push(`src/${name}:${line + 1}:${character + 1}: ${what}: ${node.getText(source).slice(0, 80)}`);
  };
  const visit = (node) => {
    if (ts.isAsExpression(node)) report(node, "a cast (as)");
    else if (ts.isTypeAssertionExpression(node)) report(node, "a cast (<T>)");
    else if (ts.isNonNullExpression(node)) report(node, "a non-null assertion (!)");
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node, "the type any");
    ts.forEachChild(node, visit);
  };
  visit(source);
  text.split("\n").forEach((line, index) => {
    const directive = line.match(/@ts-(ignore|expect-error|nocheck)/);
    if (directive) problems.push(`src/${name}:${index + 1}: a ${directive[0]} directive`);
  });
}

for (const problem of problems) console.log(`FAIL lint: ${problem}`);
console.log(`lint: src/*.ts ${problems.length === 0 ? "has no casts, any or ts directives" : `${problems.length} problems`}`);
process.exitCode = problems.length === 0 ? 0 : 1;
