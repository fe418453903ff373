// Types for json-logic-js 2.x, which ships none: only the functions the rule engine calls.
declare module 'json-logic-js' {
  type RulesLogic = unknown;
  interface JsonLogic {
    apply(logic: RulesLogic, data?: unknown): unknown;
    add_operation(name: string, fn: (...args: any[]) => unknown): void;
    truthy(value: unknown): boolean;
    is_logic(logic: unknown): boolean;
  }
  const jsonLogic: JsonLogic;
  export default jsonLogic;
}
