// Typed, immutable composition of stages: pipeline(a).pipe(b) fails to compile when b cannot take a's output.
import { PacsflowError } from './errors.js'
import { assertStageName, type AnyStage, type Stage } from './stage.js'

/**
 * An ordered list of stages from `In` to `Out`. Immutable: `pipe` returns a new pipeline,
 * so one prefix can be shared by several pipelines.
 */
export interface Pipeline<in In, out Out> {
  /** The stages in order (at least one). */
  readonly stages: readonly AnyStage[]
  /**
   * A new pipeline that runs `stage` on this one's output. Piping a stage whose input does
   * not accept `Out` is a compile error; a stage name already in the pipeline throws
   * `INVALID_OPTIONS` (names key checkpoints and work folders).
   */
  pipe<Next>(stage: Stage<Out, Next>): Pipeline<In, Next>
  /** Phantom field that carries `In` for type inference; always `undefined` at run time. */
  readonly __types?: (input: In) => Out
}

/** The input type of a pipeline. */
export type PipelineInput<P> = P extends Pipeline<infer In, unknown> ? In : never
/** The output type of a pipeline. */
export type PipelineOutput<P> = P extends Pipeline<never, infer Out> ? Out : never

/** Starts a pipeline with its first stage. */
export function pipeline<In, Out>(first: Stage<In, Out>): Pipeline<In, Out> {
  return makePipeline<In, Out>([checkStage(first, [])])
}

function makePipeline<In, Out>(stages: readonly AnyStage[]): Pipeline<In, Out> {
  return Object.freeze({
    stages: Object.freeze([...stages]),
    pipe<Next>(stage: Stage<Out, Next>): Pipeline<In, Next> {
      return makePipeline<In, Next>([...stages, checkStage(stage, stages)])
    },
  })
}

function checkStage(stage: AnyStage, before: readonly AnyStage[]): AnyStage {
  if (stage === null || typeof stage !== 'object' || typeof stage.run !== 'function') {
    throw new PacsflowError('INVALID_OPTIONS', 'pipe() takes a stage: an object with a name and a run function')
  }
  assertStageName(stage.name)
  if (before.some((other) => other.name === stage.name)) {
    throw new PacsflowError(
      'INVALID_OPTIONS',
      `the pipeline already has a stage named '${stage.name}': give the second one another name, e.g. { ...stage, name: '${stage.name}-2' }`,
      { details: { stage: stage.name } },
    )
  }
  return stage
}
