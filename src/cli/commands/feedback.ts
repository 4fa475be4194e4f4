import type { Command } from 'commander';
import { readFeedbackCsv } from '../../monitor/live/feedback.js';
import { submitFeedback } from '../../monitor/live/submit-feedback.js';
import type { FeedbackLabel } from '../../store/prediction-log.js';
import { globals, output, usage } from '../context.js';
import { formatTable } from '../table.js';

function rowNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw usage(`--row: expected a row number >= 0, got "${value}"`);
  return Number(value);
}

export function registerFeedback(program: Command): void {
  program
    .command('feedback')
    .description('attach ground-truth labels to logged predictions (live accuracy, precision, recall, F1)')
    .argument('<model>', 'the model the predictions were made by')
    .option('--csv <file>', 'labels in a CSV file with the columns request_id,label[,row]')
    .option('--request-id <id>', 'one label: the request id (with --label)')
    .option('--label <label>', 'one label: the true class (with --request-id)')
    .option('--row <n>', 'one label: the row of a multi-row request', rowNumber)
    .option(
      '--url <url>',
      'send to a running server (e.g. http://127.0.0.1:8501) instead of writing to the store',
    )
    .addHelpText(
      'after',
      '\nA request id the prediction log does not hold fails the whole batch, naming the id. A row labelled\n' +
        'twice keeps the last label. Without --url the labels go straight into the store; servers on it pick\n' +
        'them up at their next quality refresh.',
    )
    .action(async (model: string, opts, cmd: Command) => {
      let labels: FeedbackLabel[];
      if (opts.csv !== undefined) {
        if (opts.requestId !== undefined || opts.label !== undefined || opts.row !== undefined) {
          throw usage('feedback: give labels with --csv or with --request-id/--label, not both');
        }
        labels = readFeedbackCsv(opts.csv);
      } else {
        if (opts.requestId === undefined || opts.label === undefined) {
          throw usage(
            'feedback: give --csv <file>, or one label with --request-id <id> --label <label> [--row n]',
          );
        }
        labels = [
          {
            requestId: opts.requestId,
            label: opts.label,
            ...(opts.row !== undefined ? { row: opts.row } : {}),
          },
        ];
      }
      const g = globals(cmd);
      const result = await submitFeedback(model, labels, {
        ...(opts.url !== undefined ? { url: opts.url } : g.store !== undefined ? { store: g.store } : {}),
      });
      const byVersion = new Map<number, { n: number; correct: number }>();
      for (const l of result.labelled) {
        const v = byVersion.get(l.version) ?? { n: 0, correct: 0 };
        v.n++;
        if (l.label === l.predicted) v.correct++;
        byVersion.set(l.version, v);
      }
      output(cmd, result, () =>
        [
          `labelled ${result.labelled.length} prediction${result.labelled.length === 1 ? '' : 's'} of ${model} (${result.target})`,
          formatTable(
            ['version', 'labels', 'correct', 'accuracy'],
            [...byVersion].sort(([a], [b]) => a - b).map(([v, s]) => [v, s.n, s.correct, s.correct / s.n]),
          ),
        ].join('\n'),
      );
    });
}
