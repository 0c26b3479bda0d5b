// Small promise helpers shared by every integration test. Everything that waits takes a
// timeout: a test that hangs is a test that lies.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a labelled error if `promise` has not settled after `ms` milliseconds. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `predicate` every `interval` ms until it returns truthy; rejects after `ms`. */
export async function waitUntil(predicate, ms = 5000, label = 'condition', interval = 20) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await sleep(interval);
  }
}

/** A promise with its resolve/reject exposed. */
export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; returns results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
