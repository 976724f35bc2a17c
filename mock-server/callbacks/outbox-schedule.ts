import type { Clock, ClockTimer } from '../shared/clock.js';
import type { AttemptTrigger, Delivery } from './delivery.js';

interface Job {
  id: string;
  trigger: AttemptTrigger;
  done: Array<() => void>;
  prev: Job | undefined;
  next: Job | undefined;
}

/**
 * The waiting attempts, in order: a doubly linked list, so taking the head, putting a redelivery
 * in front and skipping a delivery whose attempt is still running are all O(1). (An array with
 * splice/unshift was O(n) per attempt; the stream bench builds a backlog of thousands.)
 */
function createJobQueue() {
  let head: Job | undefined;
  let tail: Job | undefined;
  let size = 0;
  return {
    get length() {
      return size;
    },
    get first() {
      return head;
    },
    push(job: Job) {
      job.prev = tail;
      job.next = undefined;
      if (tail) tail.next = job;
      else head = job;
      tail = job;
      size++;
    },
    unshift(job: Job) {
      job.next = head;
      job.prev = undefined;
      if (head) head.prev = job;
      else tail = job;
      head = job;
      size++;
    },
    remove(job: Job) {
      if (job.prev) job.prev.next = job.next;
      else head = job.next;
      if (job.next) job.next.prev = job.prev;
      else tail = job.prev;
      job.prev = job.next = undefined;
      size--;
    },
    /** Empties the queue and returns what it held, in order. */
    drain(): Job[] {
      const all: Job[] = [];
      for (let j = head; j; j = j.next) all.push(j);
      head = tail = undefined;
      size = 0;
      return all;
    },
  };
}

const TRIGGER_RANK: Record<AttemptTrigger, number> = { schedule: 0, flush: 1, redeliver: 2 };

/**
 * The outbox's *schedule* (DESIGN.md house style 15): when this process makes an attempt. Due
 * times live on the delivery rows (`next_attempt_at`, in the store); here they become timers on the
 * injected clock, and due attempts wait in a queue that runs at most `concurrency` at a time and
 * one per delivery. What an attempt does is `run`'s business (claim, attempt, record).
 *
 * With a shared store other replicas may make the attempt a timer here was waiting for: the claim
 * decides, and a timer that finds the delivery taken or not yet due does nothing.
 *
 * @example
 * const schedule = createOutboxSchedule({ clock, concurrency: 32, run: (id, trigger) => attempt(id, trigger) });
 * schedule.due(delivery); // at once, or armed for its next_attempt_at
 */
export function createOutboxSchedule(deps: {
  clock: Clock;
  concurrency: number;
  run: (id: string, trigger: AttemptTrigger) => Promise<void>;
}) {
  const { clock } = deps;
  const timers = new Map<string, ClockTimer>();
  const queue = createJobQueue();
  const queued = new Map<string, Job>();
  const running = new Map<string, Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  let stopped = false;
  /** First attempts handed to a microtask but not yet queued (a burst of transitions in one tick). */
  let scheduling = 0;

  function clear(id: string) {
    const t = timers.get(id);
    if (t) clock.clearTimeout(t);
    timers.delete(id);
  }

  function arm(d: Pick<Delivery, 'id' | 'next_attempt_at'>) {
    clear(d.id);
    if (stopped) return;
    const due = d.next_attempt_at ?? clock.now();
    const timer = clock.setTimeout(() => {
      timers.delete(d.id);
      enqueue(d.id, 'schedule', false);
    }, due - clock.now());
    timers.set(d.id, timer);
  }

  function settleIdle() {
    if (running.size === 0 && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Queues an attempt (or joins the one already queued); `done` runs once it has finished. */
  function enqueue(id: string, trigger: AttemptTrigger, front: boolean, done?: () => void): void {
    if (stopped) {
      done?.();
      return;
    }
    const existing = queued.get(id);
    if (existing) {
      if (TRIGGER_RANK[trigger] > TRIGGER_RANK[existing.trigger]) existing.trigger = trigger;
      if (done) existing.done.push(done);
      return;
    }
    const job: Job = { id, trigger, done: done ? [done] : [], prev: undefined, next: undefined };
    queued.set(id, job);
    if (front) queue.unshift(job);
    else queue.push(job);
    pump();
  }

  function pump() {
    for (let job = queue.first; job && running.size < deps.concurrency && !stopped;) {
      const next = job.next;
      // One attempt per delivery at a time: a job whose delivery is running waits its turn.
      if (!running.has(job.id)) start(job);
      job = next;
    }
  }

  function start(job: Job) {
    queue.remove(job);
    queued.delete(job.id);
    clear(job.id);
    const finished = () => {
      running.delete(job.id);
      for (const done of job.done) done();
      pump();
      settleIdle();
    };
    running.set(job.id, deps.run(job.id, job.trigger).then(finished, finished));
  }

  return {
    arm,
    clear,
    /** Queues an attempt and resolves once it has finished (flush, redeliver). */
    push(id: string, trigger: AttemptTrigger, front = false): Promise<void> {
      return new Promise((resolve) => enqueue(id, trigger, front, resolve));
    },
    enqueue: (id: string, trigger: AttemptTrigger) => enqueue(id, trigger, false),
    /** A pending delivery's first attempt: at once (on a microtask, so the transition finishes first), or armed. */
    due(d: Delivery) {
      if (d.state !== 'pending' || stopped) return;
      if (d.next_attempt_at !== null && d.next_attempt_at > clock.now()) arm(d);
      else {
        scheduling++;
        queueMicrotask(() => {
          scheduling--;
          enqueue(d.id, 'schedule', false);
        });
      }
    },
    /** Whether this process is already doing something about the delivery. */
    holds: (id: string) => running.has(id) || queued.has(id) || timers.has(id),
    runningOf: (id: string) => running.get(id),
    /** Attempts waiting or armed here: what `callbacks.max_pending` counts. */
    held: () => timers.size + queue.length + running.size + scheduling,
    /** Room for more attempts right now (the sweep of a shared store takes no more than this). */
    room: () => (stopped ? 0 : Math.max(0, deps.concurrency - running.size - queue.length)),
    get stopped() {
      return stopped;
    },
    /** Resolves when nothing is queued or in flight. It first lets first attempts on a microtask reach the queue. */
    async whenIdle(): Promise<void> {
      await new Promise((resolve) => setImmediate(resolve));
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    stats: () => ({ armed: timers.size, queued: queue.length, in_flight: running.size }),
    /** No new attempts: timers cleared, the queue emptied (its waiters released). Returns those in flight. */
    halt(): Promise<void>[] {
      stopped = true;
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
      for (const job of queue.drain()) for (const done of job.done) done();
      queued.clear();
      return [...running.values()];
    },
    /** After a halt, once the attempts in flight ended or were cut short. */
    settled: () => settleIdle(),
    get inFlight() {
      return running.size;
    },
  };
}

export type OutboxSchedule = ReturnType<typeof createOutboxSchedule>;
