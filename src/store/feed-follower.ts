/**
 * Following one of the store's feeds: what other instances sharing the store published (session
 * revocations, changed connections) is read every few hundred milliseconds and handed over entry
 * by entry. A slow store never piles up reads (one at a time), and an unreachable one is logged
 * once when it starts failing and once when it is back, not at every poll.
 */
import type { SsoStore } from './store.ts'

/** The two log levels a follower uses (a Fastify or pino logger has them; `store/` knows no Fastify). */
export interface FeedLog {
  info (message: string): void
  error (details: object, message: string): void
}

/** What a follower says in its two log lines. */
export interface FeedLogMessages {
  /** Logged (error) when the feed cannot be read, once until it can again. */
  failing: string
  /** Logged (info) when it can be read again. */
  recovered: string
}

/**
 * Reads a feed from where it last stopped, on demand (`read()`) and every `intervalMs` once started.
 *
 * @example
 * ```ts
 * const follower = new FeedFollower(store, 'revocations', (entry) => apply(JSON.parse(entry)), log,
 *   { failing: 'cannot read the revocation feed', recovered: 'revocation feed reachable again' })
 * await follower.read() // what was published before start-up
 * follower.start(500)
 * ```
 */
export class FeedFollower {
  readonly #store: SsoStore
  readonly #feed: string
  readonly #onEntry: (entry: string) => void
  readonly #log: FeedLog
  readonly #messages: FeedLogMessages
  #cursor: string | null = null
  #timer: NodeJS.Timeout | undefined
  #failing = false
  #reading = false

  constructor (store: SsoStore, feed: string, onEntry: (entry: string) => void, log: FeedLog, messages: FeedLogMessages) {
    this.#store = store
    this.#feed = feed
    this.#onEntry = onEntry
    this.#log = log
    this.#messages = messages
  }

  /** True while the periodic reads fail: what other instances published may be missing. */
  get failing (): boolean {
    return this.#failing
  }

  /** Reads what was published since the last read and hands each entry over; the store's errors reject. */
  async read (): Promise<void> {
    const { entries, cursor } = await this.#store.readFeed(this.#feed, this.#cursor)
    this.#cursor = cursor
    for (const entry of entries) this.#onEntry(entry)
  }

  /** Reads every `intervalMs` until {@link stop} (the timer does not keep the process alive). */
  start (intervalMs: number): void {
    clearInterval(this.#timer)
    this.#timer = setInterval(() => { void this.#poll() }, intervalMs)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  async #poll (): Promise<void> {
    if (this.#reading) return // a slow store must not pile up reads
    this.#reading = true
    try {
      await this.read()
      if (this.#failing) this.#log.info(this.#messages.recovered)
      this.#failing = false
    } catch (err) {
      if (!this.#failing) this.#log.error({ err }, this.#messages.failing)
      this.#failing = true
    } finally {
      this.#reading = false
    }
  }
}
