export * from './rollout-policy';
export * from './rollout-file';
export * from './rollout-source';
export * from './rollout.module';
