// Validates an AsyncAPI document with @asyncapi/parser and checks what the parser lets through: every
// key under `components` must match the name pattern of the AsyncAPI JSON Schema (@asyncapi/specs), since
// objects under a key that does not match are never validated.  Prints one JSON object:
// {"errors": [...], "warnings": [...]}.  Usage: node asyncapi_check.cjs FILE
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");
const specs = require("@asyncapi/specs");

const SEVERITY = ["error", "warning", "info", "hint"];

async function main(file) {
  const text = fs.readFileSync(file, "utf8");
  const { diagnostics } = await new Parser().parse(text);
  const found = { errors: [], warnings: [] };
  for (const d of diagnostics) {
    const entry = `${d.code} at ${d.path.join("/")}: ${d.message}`;
    if (d.severity === 0) found.errors.push(entry);
    else if (d.severity === 1) found.warnings.push(entry);
  }
  const raw = JSON.parse(text);
  const schema = specs.schemas[raw.asyncapi];
  if (!schema) {
    found.errors.push(`unknown AsyncAPI version ${raw.asyncapi}`);
  } else {
    const components = Object.entries(schema.definitions).find(([id]) => id.endsWith("/components.json"))[1];
    for (const [section, definition] of Object.entries(components.properties || {})) {
      const patterns = Object.keys(definition.patternProperties || {}).map((p) => new RegExp(p, "u"));
      for (const name of Object.keys((raw.components || {})[section] || {})) {
        if (patterns.length && !patterns.some((p) => p.test(name))) {
          found.errors.push(`components.${section}: name ${JSON.stringify(name)} does not match ${patterns.join(" or ")}`);
        }
      }
    }
  }
  process.stdout.write(JSON.stringify(found) + "\n");
}

main(process.argv[2]).catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
