import { consumerBenchmark } from './consumer';
import { hotPathBenchmark } from './hotpath';
import { memoryBenchmark } from './memory';
import { modelsBenchmark } from './models';
import { replayBenchmark } from './replay';
import { type Benchmark, type Figure, printTable, writeJson } from './harness';

/** Every benchmark, in the order they run. Later work adds its own here. */
const BENCHMARKS: Benchmark[] = [hotPathBenchmark, memoryBenchmark, modelsBenchmark, consumerBenchmark, replayBenchmark];

function usage(): never {
  process.stderr.write('usage: npm run bench -- [--json FILE] [--only NAME[,NAME]] [--list]\n');
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let jsonPath: string | undefined;
  let only: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') jsonPath = args[++i] ?? usage();
    else if (a === '--only') only = (args[++i] ?? usage()).split(',');
    else if (a === '--list') {
      for (const b of BENCHMARKS) process.stdout.write(`${b.name}  ${b.description}\n`);
      return;
    } else usage();
  }
  const selected = only ? BENCHMARKS.filter((b) => only!.some((o) => b.name.startsWith(o))) : BENCHMARKS;
  const figures: Figure[] = [];
  for (const b of selected) {
    process.stderr.write(`running ${b.name}: ${b.description}\n`);
    figures.push(...(await b.run()));
  }
  printTable(figures);
  if (jsonPath) {
    writeJson(jsonPath, figures);
    process.stderr.write(`wrote ${figures.length} figures to ${jsonPath}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
