import type { QueueStatus } from '../../pipeline/executor/bullmq-status.js';
import { formatDuration } from '../../train/progress.js';
import { formatTable } from '../table.js';

/** `worker status`: counts, connected workers, then one line per job. */
export function formatQueueStatus(status: QueueStatus, now = Date.now()): string {
  const counts = Object.entries(status.counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  const head = [
    `queue ${status.queue} at ${status.redis} (prefix ${status.prefix})`,
    `workers: ${status.workers.length ? status.workers.join(', ') : '(none connected)'}`,
    `jobs: ${counts}`,
  ];
  if (status.jobs.length === 0) return head.join('\n');
  const rows = status.jobs.map((j) => {
    const progress = j.progress
      ? `${Math.round(j.progress.fraction * 100)}%${j.progress.message ? ` ${j.progress.message}` : ''}`
      : '';
    const since = j.finishedAt ?? now;
    const time = j.startedAt !== null ? formatDuration((since - j.startedAt) / 1000) : '';
    const note = [j.stalls > 0 ? `lost its worker ${j.stalls}x` : '', j.failedReason ?? '']
      .filter(Boolean)
      .join('; ');
    return [
      j.taskId,
      j.kind,
      j.state,
      progress,
      `${j.attemptsStarted}/${j.attempts}`,
      j.worker ?? '',
      time,
      note,
    ];
  });
  return [
    ...head,
    '',
    formatTable(['task', 'kind', 'state', 'progress', 'runs', 'worker', 'time', 'note'], rows),
  ].join('\n');
}
