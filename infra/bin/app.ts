import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../../shared/errors';
import { type StageConfig, stageConfigFromContext } from '../config';
import { composeApp } from '../compose';

/**
 * The pumpwatch CDK app. Stage from `-c stage=NAME` (default `dev`), overrides from the
 * `pumpwatch:stages` context in cdk.json. cdk-nag's AwsSolutions pack runs on every synth: an
 * unacknowledged finding fails it.
 */
const app = new App();
let config: StageConfig;
try {
  config = stageConfigFromContext((key) => app.node.tryGetContext(key), process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  // A clear one-line message instead of a stack trace: the user fixes cdk.json or -c values.
  console.error(err.message);
  process.exit(1);
}
composeApp(app, config);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
