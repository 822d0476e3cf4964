// Fails when src/api/schema.ts is not what openapi-typescript makes of ../openapi/vpark.json
// (the console's types drifted from the spec): regenerate with `npm run gen`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(mkdtempSync(join(tmpdir(), 'vpark-api-')), 'schema.ts');
execFileSync('npx', ['openapi-typescript', '../openapi/vpark.json', '--default-non-nullable', 'false', '-o', out], { stdio: 'ignore' });
if (readFileSync(out, 'utf8') !== readFileSync('src/api/schema.ts', 'utf8')) {
  console.error('web/src/api/schema.ts drifted from openapi/vpark.json: run `npm run gen` in web/ and commit it.');
  process.exit(1);
}
console.log('web/src/api/schema.ts matches openapi/vpark.json');
