// "Nothing leaked", the half of every attack's assertion after the refusal: no secret value and no stack trace
// in what the attacker got back, and no secret value, token or code in the gateway's log lines.
import { expect } from 'vitest';
import { STACK_TRACE } from './send.js';

export interface LeakCheck {
  /** What the attacker saw: response bodies, header values, tool output. */
  answers: string[];
  /** The gateway's captured log lines. */
  logs: string[];
  /** Secret values (plain; their base64 forms are checked too). */
  secrets: string[];
  /** Tokens, codes, session ids that must not appear in a log line. */
  credentials?: string[];
}

function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')];
}

export function expectNothingLeaked(c: LeakCheck): void {
  const answers = c.answers.join('\n');
  const logs = c.logs.join('\n');
  for (const s of c.secrets.flatMap(forms)) {
    expect(answers.includes(s), 'a secret value reached the attacker').toBe(false);
    expect(logs.includes(s), 'a secret value reached the gateway log').toBe(false);
  }
  expect(STACK_TRACE.test(answers), `a stack trace reached the attacker: ${answers.match(STACK_TRACE)?.[0]}`).toBe(false);
  for (const t of c.credentials ?? []) {
    if (t.length < 8) continue;
    expect(logs.includes(t), `a credential (${t.slice(0, 6)}…) reached the gateway log`).toBe(false);
  }
}

/**
 * Per-attack leak checks against one gateway: `mark()` before each attack (beforeEach), then `check()` looks only
 * at the log lines and answers since the mark, so one leak fails the attack that caused it and no other.
 */
export class LeakWatch {
  private logMark = 0;
  private answerMark = 0;
  readonly answers: string[] = [];

  constructor(
    private readonly logs: string[],
    private readonly secrets: () => string[],
    private readonly baseCredentials: () => string[],
  ) {}

  mark(): void {
    this.logMark = this.logs.length;
    this.answerMark = this.answers.length;
  }

  /** Remembers what the attacker got back. */
  saw(text: string): void {
    this.answers.push(text);
  }

  check(extra: { answers?: string[]; credentials?: string[] } = {}): void {
    expectNothingLeaked({
      answers: [...this.answers.slice(this.answerMark), ...(extra.answers ?? [])],
      logs: this.logs.slice(this.logMark),
      secrets: this.secrets(),
      credentials: [...this.baseCredentials(), ...(extra.credentials ?? [])],
    });
  }
}
