/**
 * Skip a test (or, in a `before` hook, a whole suite) with a reason that `npm test`'s summary
 * repeats: it prints `[vigil skip] <reason>` and calls mocha's skip. Only optional parts may
 * be skipped (the OpenCV engine without the system OpenCV); everything else must run.
 */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  console.log(`[vigil skip] ${reason}`);
  ctx.skip();
}
