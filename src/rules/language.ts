// The rule language as typed data: what a loaded rule set holds and the shape of every step kind.
// rules/README.md documents it for rule authors; rules/schema.json is its JSON Schema.

/** A json-logic expression, already checked and with every {"$const": NAME} replaced. */
export type Logic = unknown;

/** Fields every step has. `id` defaults to "<kind>@<index>"; `source` is "file#/json/pointer". */
interface StepBase {
  readonly id: string;
  readonly source: string;
  /** Study-level condition: the step runs only when it holds (default: always). */
  readonly when?: Logic;
}

export type Step = StepBase &
  (
    | { readonly kind: 'uniqueStudies'; readonly reason: string }
    | { readonly kind: 'splitStudy'; readonly copies: readonly Logic[]; readonly reason: string }
    | { readonly kind: 'querySeries'; readonly rebuildModalities?: Logic; readonly reason?: string }
    | {
        readonly kind: 'termFilter';
        readonly level: 'study' | 'series';
        readonly label: string;
        readonly value: Logic;
        readonly include: Logic;
        readonly exclude: Logic;
      }
    | { readonly kind: 'dropStudy'; readonly reason: string }
    | { readonly kind: 'branches'; readonly otherwise?: string }
    | { readonly kind: 'duplicates'; readonly where?: Logic }
    | { readonly kind: 'probe'; readonly where: Logic; readonly instances: 'all' | 'first'; readonly emptyNote?: string }
    | { readonly kind: 'set'; readonly name: string; readonly value: Logic }
    | { readonly kind: 'keep' | 'drop'; readonly where: Logic; readonly reason: string; readonly note?: string }
    | { readonly kind: 'keepFirst'; readonly where: Logic; readonly count: number; readonly reason: string }
    | {
        readonly kind: 'keepImages';
        readonly where: Logic;
        readonly images: Logic;
        readonly imageLevel?: 'always' | 'whenSomeDropped';
        readonly reason: string;
      }
    | { readonly kind: 'stop'; readonly reason?: string }
    | { readonly kind: 'call'; readonly procedure: string }
  );

export type StepKind = Step['kind'];

/** Step kinds that work on the list of studies or the series query: study.json only. */
export const STUDY_FILE_ONLY: ReadonlySet<StepKind> = new Set<StepKind>(['uniqueStudies', 'splitStudy', 'querySeries', 'branches']);

/** A modality group of groups.json (a `-ct`, `-mg` … switch). */
export interface Group {
  readonly name: string;
  /** ModalitiesInStudy codes asked at study level, in order. */
  readonly codes: readonly string[];
  /** May only be selected alone. */
  readonly exclusive: boolean;
  readonly description: string;
}

export interface Stage {
  readonly name: string;
  readonly steps: readonly Step[];
}

export interface Branch {
  readonly name: string;
  readonly order: number;
  readonly description: string;
  readonly applies: Logic;
  /** "file#/applies". */
  readonly source: string;
  readonly steps: readonly Step[];
}

export interface RuleFileInfo {
  readonly name: string;
  readonly path: string;
  readonly origin: 'built-in' | 'site';
}

/** A loaded, validated rule set. Plain data: the engine reads it, never changes it. */
export interface RuleSet {
  readonly files: readonly RuleFileInfo[];
  readonly groups: readonly Group[];
  /** SOP Class UID → names of the categories it belongs to, in constants.json order. */
  readonly categoriesByClass: ReadonlyMap<string, readonly string[]>;
  readonly constants: Readonly<Record<string, unknown>>;
  readonly stages: readonly Stage[];
  readonly procedures: ReadonlyMap<string, readonly Step[]>;
  /** Enabled branches in the order they are tried. */
  readonly branches: readonly Branch[];
}

/** One problem found in a rule file. */
export interface RuleProblem {
  readonly file: string;
  /** JSON pointer inside the file ("" for the whole document). */
  readonly pointer: string;
  readonly message: string;
}
