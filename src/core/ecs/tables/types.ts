// Shapes of the mapping tables. Tables are data: a product module looks a record up in them, it does
// not branch on action names itself.

/** ECS categorization of one action: replaces the default `event.type: ["info"]`. */
export interface Categorization {
  readonly category: readonly string[]
  readonly type: readonly string[]
  readonly outcome?: 'success' | 'failure' | 'unknown'
}

/** Builds a lookup from rows that share one categorization (several action keys per row). */
export function categorizationTable(
  rows: ReadonlyArray<readonly [actions: readonly string[], category: Categorization]>,
): ReadonlyMap<string, Categorization> {
  const table = new Map<string, Categorization>()
  for (const [actions, categorization] of rows) {
    for (const action of actions) {
      if (table.has(action)) throw new Error(`duplicate action in categorization table: ${action}`)
      table.set(action, categorization)
    }
  }
  return table
}

/**
 * What an affected object fills (ecs-mapping.md §6.1), when its type and the record's action match:
 * - `group`: group.name, group.id
 * - `group-name`: group.name only (Jira: the reference does not copy the id)
 * - `target-group`: user.target.group.name, user.target.group.id
 * - `target-user`: user.target.name = object name, user.target.id = object id
 * - `target-user-by-uri`: user.target.full_name = object name, user.target.id = object id,
 *    user.target.name = the `?username=` value of the object's uri (Confluence DC users)
 * - `actor-by-uri`: the actor itself (user.full_name, user.id, user.name from uri): Confluence login
 *    records name the user who logged in as an affected object, not as the author
 */
export type ObjectFill = 'group' | 'group-name' | 'target-group' | 'target-user' | 'target-user-by-uri' | 'actor-by-uri'

export interface AffectedObjectRule {
  readonly objectType: string
  readonly actions: readonly string[]
  readonly fill: ObjectFill
}

/**
 * A changed-value rule (ecs-mapping.md §6.2): for records whose action is in `actions`, a changed value
 * with this `i18nKey` sets user.changes.<field> = to and user.target.<field> from `from`:
 * - `from`: target = from (may be absent)
 * - `from-else-to`: target = from if present, else to (Confluence)
 * - `from-if-present`: target = from, left untouched when the change has no from (Jira)
 */
export interface ChangedValueRule {
  readonly actions: readonly string[]
  readonly i18nKey: string
  readonly field: 'name' | 'email' | 'full_name'
  readonly target: 'from' | 'from-else-to' | 'from-if-present'
}

/** When the user/group extraction runs at all (ecs-mapping.md §6): category keys or English labels. */
export interface UserExtractionGate {
  readonly categoryI18nKeys: readonly string[]
  readonly categories: readonly string[]
}

export interface ProductRules {
  readonly categorization: ReadonlyMap<string, Categorization>
  readonly gate: UserExtractionGate
  readonly objectRules: readonly AffectedObjectRule[]
  readonly changedValueRules: readonly ChangedValueRule[]
}
