// Data Center records whose product cannot be told (see detectDcProduct): the categorizations on which
// the product tables agree wherever a key appears in more than one. No user extraction: the object
// type spelling (`User` vs `USER`) and the meaning of author.name differ between products.
import { BITBUCKET_CATEGORIZATION } from './bitbucket'
import { CONFLUENCE_CATEGORIZATION } from './confluence'
import { JIRA_CATEGORIZATION } from './jira'
import type { Categorization, ProductRules } from './types'

function sameCategorization(a: Categorization, b: Categorization): boolean {
  return a.outcome === b.outcome && a.category.join() === b.category.join() && a.type.join() === b.type.join()
}

function agreed(): ReadonlyMap<string, Categorization> {
  const out = new Map<string, Categorization>()
  const conflicting = new Set<string>()
  for (const table of [CONFLUENCE_CATEGORIZATION, JIRA_CATEGORIZATION, BITBUCKET_CATEGORIZATION]) {
    for (const [action, c] of table) {
      const seen = out.get(action)
      if (seen && !sameCategorization(seen, c)) conflicting.add(action)
      else out.set(action, c)
    }
  }
  for (const action of conflicting) out.delete(action)
  return out
}

export const GENERIC_DC_RULES: ProductRules = {
  categorization: agreed(),
  gate: { categoryI18nKeys: ['-'], categories: [] },
  objectRules: [],
  changedValueRules: [],
}
