import { configToEnv, loadConfig } from '../../../shared/config';
import { ENV } from '../../../shared/env';
import { ConfigError } from '../../../shared/errors';
import { resourceNames } from '../../../shared/names';

describe('loadConfig', () => {
  it('defaults names from the stage', () => {
    const c = loadConfig({});
    expect(c.names.streamName).toBe(resourceNames('local').streamName);
    expect(c.names.tables).toEqual(resourceNames('local').tables);
    expect(c.window).toMatchObject({ sizeMs: 10_000, hopMs: 10_000 });
  });

  it('round-trips through configToEnv', () => {
    const c = loadConfig({ [ENV.stage]: 'dev', [ENV.kinesisEndpoint]: 'http://127.0.0.1:4567', [ENV.windowHopMs]: '5000' });
    expect(loadConfig(configToEnv(c))).toEqual(c);
  });

  it.each([
    { name: 'bad stage', env: { [ENV.stage]: 'Prod!' }, message: /PUMPWATCH_STAGE/ },
    { name: 'bad endpoint', env: { [ENV.kinesisEndpoint]: 'not a url' }, message: /endpoints\.kinesis/ },
    { name: 'hop not dividing size', env: { [ENV.windowHopMs]: '3000' }, message: /window\.hopMs/ },
    { name: 'negative lateness', env: { [ENV.allowedLatenessMs]: '-1' }, message: /allowedLatenessMs/ },
  ])('rejects $name with a message naming the field', ({ env, message }) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
