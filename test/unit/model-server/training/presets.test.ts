import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getFamily } from '../../../../services/model-server/families/index';
import { DEFAULT_PRESET, PCA_T2Q_PRESET, PRESETS } from '../../../../services/model-server/training/presets';
import { evaluateSkabSeries } from '../../../../services/model-server/training/replay';
import { addConfusion, parseSkabCsv, skabMetrics } from '../../../../services/model-server/training/skab';
import { ConditionPolicySchema } from '../../../../shared/schemas/condition';
import { sharedDataPath } from '../../../support/shared-data';

const SKAB = sharedDataPath('skab');

describe('presets', () => {
  it.each([...PRESETS.values()].map((p) => [p.name, p] as const))('%s names a registered family, valid options and a valid policy', (_name, preset) => {
    const family = getFamily(preset.family);
    expect(family).toBeDefined();
    // The family validates its options when fitting; a two-feature fit proves they parse.
    expect(() => family!.fit({ featureNames: ['a.mean', 'b.mean'], rows: [[1, 2], [2, 1], [3, 5], [4, 3]] }, preset.familyOptions)).not.toThrow();
    expect(ConditionPolicySchema.safeParse(preset.condition).success).toBe(true);
    expect(preset.window.sizeMs % preset.window.hopMs).toBe(0);
  });

  it('are frozen', () => {
    expect(Object.isFrozen(DEFAULT_PRESET)).toBe(true);
    expect(PRESETS.get(DEFAULT_PRESET.name)).toBe(DEFAULT_PRESET);
  });
});

// Guards the tuning: the measured pooled F1 on these two files is 0.846 (default) and 0.732 (PCA).
const describeWithData = existsSync(SKAB) ? describe : describe.skip;
describeWithData(`presets on real SKAB files (skipped when ${SKAB} is absent)`, () => {
  const files = ['valve1/1.csv', 'valve1/11.csv'];
  const run = (preset: typeof DEFAULT_PRESET) =>
    skabMetrics(
      addConfusion(...files.map((f, i) => evaluateSkabSeries(parseSkabCsv(readFileSync(resolve(SKAB, f), 'utf8'), f), preset, { pumpId: `skab-${i}` }).confusion)),
    );

  it('the default keeps its F1 through Windower, family and evaluateWindow', () => {
    const m = run(DEFAULT_PRESET);
    expect(m.f1).toBeGreaterThan(0.82);
    expect(m.far).toBeLessThan(30);
  });

  it('the PCA T²+Q preset keeps its F1, below the default', () => {
    const pca = run(PCA_T2Q_PRESET);
    expect(pca.f1).toBeGreaterThan(0.7);
    expect(pca.f1).toBeLessThan(run(DEFAULT_PRESET).f1);
  });
});
