// @pacsflow/e2e: end-to-end tests of whole pipelines (private; nothing to import).
export {}
